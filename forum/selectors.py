"""Reads of the forum, shaped for each page, with visibility applied once."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User
from attachments.selectors import attachments_annotations
from forum import search as forum_search
from forum.models import (
    Answer,
    Category,
    Follow,
    PostState,
    Question,
    Reply,
    Revision,
    Tag,
    Thanks,
)


def _question_of(post) -> Question | None:
    return post if isinstance(post, Question) else getattr(post, "question", None)


def author_is_hidden(post, viewer, *, author_id: int | None = None) -> bool:
    """Whether ``viewer`` must not learn who wrote ``post`` (SPEC: anonymous asking).

    The asker of an anonymous question stays anonymous in their own replies
    under it too; only they and moderators see their name.
    """
    question = _question_of(post)
    author_id = author_id if author_id is not None else post.author_id
    if question is None or not question.is_anonymous or author_id != question.author_id:
        return False
    if viewer is not None and viewer.is_authenticated:
        return not (viewer.pk == author_id or viewer.is_moderator)
    return True


def author_display(post, viewer) -> str:
    """The author's name as ``viewer`` may see it."""
    if author_is_hidden(post, viewer):
        return _("Anonymous patient")
    author = post.author
    if author.is_former_member:
        return _("Former member")
    question = _question_of(post)
    if question is not None and question.is_anonymous and post.author_id == question.author_id:
        return _("%(name)s (shown to others as Anonymous patient)") % {"name": author.name}
    return author.name


def person_display(user, *, question: Question, viewer) -> str:
    """How ``user``, acting on ``question`` (thanking, accepting), is named to ``viewer``."""
    if question.is_anonymous and user.pk == question.author_id:
        if (
            viewer is None
            or not viewer.is_authenticated
            or not (viewer.pk == user.pk or viewer.is_moderator)
        ):
            return _("Anonymous patient")
    if user.is_former_member:
        return _("Former member")
    return user.name


SORTS = {
    "newest": ("-created_at", "-pk"),
    "active": ("-last_activity_at", "-pk"),
    "thanked": ("-thanks_count", "-created_at", "-pk"),
}


def sees_public_list(viewer: User) -> bool:
    """Whether ``viewer``'s question lists are the visitors' (and may share their cache).

    Everyone but moderators: the lists show published questions only, each
    author under the name anyone may see; a member's own questions that
    others cannot see are listed apart (``own_unpublished_questions``).
    Moderators see every state in the lists.
    """
    return not (viewer.is_authenticated and viewer.is_moderator)


OWN_UNPUBLISHED_SHOWN = 10


def own_unpublished_questions(viewer: User) -> list[Question]:
    """The viewer's own live questions that only they and moderators can see, newest first."""
    if not viewer.is_authenticated:
        return []
    return list(
        Question.objects.live()
        .filter(author=viewer)
        .exclude(state=PostState.PUBLISHED)
        .only("pk", "title", "slug", "state", "created_at")
        .order_by("-created_at")[:OWN_UNPUBLISHED_SHOWN]
    )


def question_list(
    *,
    viewer: User,
    category: Category | None = None,
    tag: Tag | None = None,
    status: str = "",
    sort: str = "newest",
    stage: str = "",
    treatment: str = "",
    asker: str = "",
) -> QuerySet[Question]:
    """Questions the viewer may see, filtered and sorted for the list pages."""
    questions = (
        Question.objects.visible_to(viewer)
        .select_related("author", "category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .defer("body", "body_html", "search_document", "search_vector", "moderation_reason")
    )
    if category is not None:
        questions = questions.filter(category=category)
    if tag is not None:
        questions = questions.filter(tags=tag)
    # A duplicate points to an answered question: it waits for nobody.
    if status == "unanswered":
        questions = questions.filter(answer_count=0, duplicate_of__isnull=True)
    elif status == "answered":
        questions = questions.filter(Q(answer_count__gt=0) | Q(duplicate_of__isnull=False))
    if stage:
        questions = questions.filter(stage=stage)
    if treatment:
        questions = questions.filter(treatment=treatment)
    if asker:
        questions = questions.filter(asker=asker)
    return questions.order_by(*SORTS.get(sort, SORTS["newest"]))


@dataclass
class Facet:
    """A category or tag among the matches, with how many matched in it."""

    kind: str  # "category" or "tag"
    slug: str
    label: str
    count: int
    chosen: bool = False


@dataclass
class SearchResults:
    questions: QuerySet[Question]  # the matches, best first
    count: int
    more: bool  # more matched than forum.search.MAX_CANDIDATES; the best kept
    kept: int  # of the published matches, those kept
    expansions: list[tuple[str, list[str]]]  # (as typed, the other forms searched)
    plan: forum_search.Plan
    facets: list[Facet] = field(default_factory=list)
    # The tags of each published match, by name, for its row (``search_row_tags``).
    tags: dict[int, list[Tag]] = field(default_factory=dict)


def question_search(
    *, viewer: User, query: str, category: str = "", tag: str = ""
) -> SearchResults:
    """Questions matching ``query`` in their text, answers, category or tags, visible to the viewer.

    Published questions for everyone, and the unpublished ones the viewer
    may see: their own, or all of them for moderators. ``category`` and
    ``tag`` (slugs, as the facets link them) narrow the published matches.
    The questions come without their tags: the query that counts the facets
    brings those of the published matches (``search_row_tags``).
    """
    extra = None
    if viewer.is_authenticated:
        unpublished = Question.objects.live().filter(
            state__in=[state for state in PostState if state != PostState.PUBLISHED]
        )
        extra = unpublished if viewer.is_moderator else unpublished.filter(author=viewer)
    within = None
    if category or tag:
        within = Question.objects.published()
        if category:
            within = within.filter(category__slug=category)
        if tag:
            within = within.filter(tags__slug=tag)
        extra = None
    found = forum_search.matches(query, extra=extra, within=within)
    questions = (
        Question.objects.filter(pk__in=forum_search.among(found.ids))
        .select_related("author", "category")
        .defer("body_html", "moderation_reason", "search_vector")
    )
    facets, tags = _search_facets(found.ids[: found.public], category=category, tag=tag)
    return SearchResults(
        forum_search.ranked(questions, found),
        len(found.ids),
        found.more,
        found.public,
        found.plan.expansions,
        found.plan,
        facets,
        tags,
    )


def search_row_tags(questions: list[Question], results: SearchResults) -> dict[int, list[Tag]]:
    """Each question's tags by name: those the search brought, the rest in one query.

    The rest are a member's or moderator's unpublished matches, which the
    facets leave out.
    """
    tags = {question.pk: results.tags.get(question.pk) for question in questions}
    missing = [pk for pk, found in tags.items() if found is None]
    if missing:
        for pk in missing:
            tags[pk] = []
        rows = (
            Question.tags.through.objects.filter(question_id__in=missing)
            .select_related("tag")
            .order_by("tag__name")
        )
        for row in rows:
            tags[row.question_id].append(row.tag)
    return tags


FACETS_SHOWN = 8


def _search_facets(
    ids: list[int], *, category: str, tag: str
) -> tuple[list[Facet], dict[int, list[Tag]]]:
    """The categories and tags of the published matches, most matches first, and each one's tags.

    One query, a row per match and tag (a few per question): it costs less
    to count here than two grouped queries and a prefetch cost to build and
    run (docs/BENCHMARKS.md).
    """
    if not ids:
        return [], {}
    rows = (
        Question.objects.filter(pk__in=forum_search.among(ids))
        .order_by("tags__name", "pk")
        .values_list(
            "pk",
            "category__slug",
            "category__name",
            "category__name_zh",
            "category__position",
            "tags__slug",
            "tags__name",
            "tags__name_zh",
        )
    )
    categories, tags, counts, by_question = {}, {}, Counter(), {}
    for pk, c_slug, c_name, c_name_zh, position, t_slug, t_name, t_name_zh in rows:
        if pk not in by_question:
            by_question[pk] = []
            if c_slug not in categories:
                categories[c_slug] = Category(
                    slug=c_slug, name=c_name, name_zh=c_name_zh, position=position
                )
            counts["category", c_slug] += 1
        if t_slug is not None:
            if t_slug not in tags:
                tags[t_slug] = Tag(slug=t_slug, name=t_name, name_zh=t_name_zh)
            counts["tag", t_slug] += 1
            by_question[pk].append(tags[t_slug])
    top_categories = sorted(
        categories.values(), key=lambda c: (-counts["category", c.slug], c.position, c.name)
    )
    # Rows come by tag name in the database's collation, so equal counts keep that order.
    top_tags = sorted(tags.values(), key=lambda t: -counts["tag", t.slug])
    facets = [
        Facet(kind, item.slug, item.label, counts[kind, item.slug], item.slug == chosen)
        for kind, top, chosen in [("category", top_categories, category), ("tag", top_tags, tag)]
        for item in top[:FACETS_SHOWN]
    ]
    return facets, by_question


def unanswered_count() -> int:
    return Question.objects.published().filter(answer_count=0, duplicate_of__isnull=True).count()


def unanswered_for_doctor(*, doctor: User, limit: int = 10) -> list[Question]:
    """Unanswered questions in the doctor's specialties, oldest waiting first."""
    specialties = Category.objects.filter(physicians__user=doctor)
    return list(
        Question.objects.published()
        .filter(answer_count=0, duplicate_of__isnull=True, category__in=specialties)
        .select_related("author", "category")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .defer("body", "body_html", "search_document", "search_vector")
        .order_by("created_at")[:limit]
    )


def question_get_for_viewer(*, pk: int, viewer: User) -> Question:
    """The question with its author, category and tags, or 404 if the viewer may not see it.

    A duplicate comes with the question it points to (its title and state,
    not its text) and who linked them; every question with
    ``duplicates_count``, the published duplicates pointing to it. Both ride
    in the same query, so a duplicate's page costs what any other does.
    """
    try:
        return (
            Question.objects.visible_to(viewer)
            .select_related("author", "category", "duplicate_of", "duplicate_marked_by")
            .defer(*(f"duplicate_of__{name}" for name in _ORIGINAL_UNSHOWN))
            .annotate(duplicates_count=_published_duplicates_count(), **attachments_annotations())
            .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
            .get(pk=pk)
        )
    except Question.DoesNotExist:
        raise Http404 from None


# What a duplicate's page never shows of the question it points to.
_ORIGINAL_UNSHOWN = (
    "body",
    "body_html",
    "moderation_reason",
    "search_document",
    "search_vector",
    "regimen",
)


def _published_duplicates_count():
    return Coalesce(
        Subquery(
            Question.objects.published()
            .filter(duplicate_of=OuterRef("pk"))
            .order_by()
            .values("duplicate_of")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


@dataclass
class QuestionPage:
    question: Question
    answers: list[Answer]
    question_replies: list[Reply]
    is_following: bool = False
    thanked_ids: set[int] = field(default_factory=set)


def question_page(*, question: Question, viewer: User, own: bool = True) -> QuestionPage:
    """Everything the question page shows, in a fixed number of queries.

    Answers come with their doctors' profiles, replies are fetched in one
    query and hung under their answers, the accepted answer goes first.
    Moderators also get every post's earlier versions (``earlier_versions``),
    in one more query; nobody else does, as they may hold what a moderator
    removed. With ``own`` False, the viewer's follow and thanks are left
    out, for a page that every viewer like them shares.
    """
    answers = list(
        Answer.objects.visible_to(viewer)
        .filter(question=question)
        .select_related("author", "author__physician_profile__discipline")
        .order_by("created_at", "pk")
    )
    replies = (
        Reply.objects.visible_to(viewer)
        .filter(question=question)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    by_answer = defaultdict(list)
    for reply in replies:
        reply.question = question  # shared instance: no query per reply
        by_answer[reply.answer_id].append(reply)
    for answer in answers:
        answer.question = question
        answer.visible_replies = by_answer.get(answer.pk, [])
        answer.is_accepted = answer.pk == question.accepted_answer_id
    answers.sort(key=lambda answer: not answer.is_accepted)
    if viewer.is_authenticated and viewer.is_moderator:
        _attach_earlier_versions([question, *answers, *replies])
    page = QuestionPage(
        question=question, answers=answers, question_replies=by_answer.get(None, [])
    )
    if own and viewer.is_authenticated:
        page.is_following = Follow.objects.filter(question=question, user=viewer).exists()
        if answers:
            page.thanked_ids = set(
                Thanks.objects.filter(user=viewer, answer__question=question).values_list(
                    "answer_id", flat=True
                )
            )
    return page


def question_post_page(
    *, question: Question, viewer: User, kind: str, pk: int
) -> tuple[Answer | Reply, QuestionPage]:
    """One answer or reply of ``question`` as the question page shows it to ``viewer``, or 404.

    What a live page inserts when the question's socket announces a new post:
    the same visibility as ``question_page`` (a reply under an answer the
    viewer may not see is not shown there either) and the same attributes,
    in a fixed number of queries. ``question`` comes from
    ``question_get_for_viewer``.
    """
    if kind == "answer":
        post = (
            Answer.objects.visible_to(viewer)
            .filter(question=question, pk=pk)
            .select_related("author", "author__physician_profile__discipline")
            .first()
        )
    elif kind == "reply":
        post = (
            Reply.objects.visible_to(viewer)
            .filter(question=question, pk=pk)
            .select_related("author")
            .first()
        )
    else:
        post = None
    if post is None:
        raise Http404
    post.question = question
    page = QuestionPage(question=question, answers=[], question_replies=[])
    if isinstance(post, Reply):
        if post.answer_id and not (
            Answer.objects.visible_to(viewer).filter(question=question, pk=post.answer_id).exists()
        ):
            raise Http404
        posts = [post]
    else:
        post.is_accepted = post.pk == question.accepted_answer_id
        post.visible_replies = list(
            Reply.objects.visible_to(viewer)
            .filter(question=question, answer=post)
            .select_related("author")
            .order_by("created_at", "pk")
        )
        for reply in post.visible_replies:
            reply.question = question
        page.answers = [post]
        if viewer.is_authenticated:
            page.thanked_ids = set(
                Thanks.objects.filter(user=viewer, answer=post).values_list("answer_id", flat=True)
            )
        posts = [post, *post.visible_replies]
    if viewer.is_authenticated and viewer.is_moderator:
        _attach_earlier_versions(posts)
    return post, page


def _attach_earlier_versions(posts: list) -> None:
    """Hang each post's revisions, newest first, on it as ``earlier_versions``."""
    ids_by_type = defaultdict(list)
    for post in posts:
        ids_by_type[ContentType.objects.get_for_model(post).pk].append(post.pk)
    wanted = Q()
    for content_type_id, ids in ids_by_type.items():
        wanted |= Q(content_type_id=content_type_id, object_id__in=ids)
    by_post = defaultdict(list)
    for revision in Revision.objects.filter(wanted).select_related("editor"):
        by_post[(revision.content_type_id, revision.object_id)].append(revision)
    for post in posts:
        key = (ContentType.objects.get_for_model(post).pk, post.pk)
        post.earlier_versions = by_post.get(key, [])


def tag_suggestions() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")
