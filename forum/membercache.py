"""The forum's pages for plain members, from one shared page (``core.memberpage``).

Lists: every plain member sees the visitors' list, unless they have a
question that others cannot see (listed apart): ``core.memberpage.member_page``.

A question page: signed-in patients who wrote nothing on the question see
the same page as each other, apart from the thank button of each answer,
the follow button, the header and the CSRF token. So the whole page is
rendered once per process, question, language, time zone and forum
version with a slot in place of each of those, and both forms of every
button are kept beside it. A request then costs the session's user (with
the bell) and one query (``question_parts``: their thanks, follow and
posts), which is left out when the member has touched none of the
question (``touched_questions``).

Verified physicians who wrote nothing on the question share a page of
their own the same way (``PHYSICIAN``): the answer and duplicate forms and
the MDT link are the same for all of them, and their duty panel (their
claim, the groups to pass to, how long the question has waited) is filled
in for each, for two queries. So do moderators who touched nothing of it
(``MODERATOR``): their page shows every post in every state with its
earlier versions, which move the forum's version as published ones do.

Anyone else has the page rendered for them: moderators who touched the
question, the asker (accept buttons, consent), a member with a post on
the question (edit links, their pending posts), a suspended member (no
forms), and everybody while the shared cache is unreachable
(``listcache.version()`` is None). Of
those, a reader who is no moderator and has touched nothing of the
question sees its visitors' question, answers and replies, with the plain
buttons: those are kept once per process, question and version too
(``reader_question``), and only the reader's own panels are asked for.
A moderator who touched it shares the question and every post in every
state the same way, with its earlier versions, and adds their own thanks
and follow.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.template.loader import render_to_string

from core import sessionuser
from core.memberpage import USER, Part, Personal, key, layout_context, personal
from forum import listcache, selectors
from forum.models import Answer, Follow, Question, Reply, Thanks

TIMEOUT = 300

# The kinds of row in a member's query (core.memberpage.Part). Its SQL names
# the models' tables; every value is a parameter (hence the noqa: S608).
THANKS, FOLLOWING, OWN_POST = 1, 2, 3
# Who shares a question page: plain members, verified physicians, or moderators.
MEMBER, PHYSICIAN, MODERATOR = "member", "physician", "moderator"


def question_parts(question_id: int) -> tuple[Part, ...]:
    """The member's thanks on the question's answers, their follow, and any post of theirs."""
    answers, thanks = Answer._meta.db_table, Thanks._meta.db_table
    return (
        Part(
            f"SELECT {THANKS}, t.answer_id, 0 FROM {thanks} t "  # noqa: S608
            f"JOIN {answers} a ON a.id = t.answer_id WHERE t.user_id = %s AND a.question_id = %s",
            (USER, question_id),
        ),
        Part(
            f"SELECT {FOLLOWING}, question_id, 0 FROM {Follow._meta.db_table} "  # noqa: S608
            "WHERE user_id = %s AND question_id = %s",
            (USER, question_id),
        ),
        Part(
            f"SELECT {OWN_POST}, id, 0 FROM {answers} WHERE author_id = %s AND question_id = %s",  # noqa: S608
            (USER, question_id),
        ),
        Part(
            f"SELECT {OWN_POST}, id, 0 FROM {Reply._meta.db_table} "  # noqa: S608
            "WHERE author_id = %s AND question_id = %s",
            (USER, question_id),
        ),
    )


def touched_questions(request) -> frozenset[int] | None:
    """The questions this member thanked an answer on, follows or posted on (None: ask the database).

    Kept with their user (``core.sessionuser``), whose version moves on with
    every thanks, follow and post: on any other question their buttons are
    the plain ones, and the page needs no query of its own.
    """

    def compute(user) -> frozenset[int]:
        ids = (
            Thanks.objects.filter(user=user)
            .values_list("answer__question_id", flat=True)
            .order_by()
            .union(
                Follow.objects.filter(user=user).values_list("question_id", flat=True).order_by(),
                Answer.objects.filter(author=user).values_list("question_id", flat=True).order_by(),
                Reply.objects.filter(author=user).values_list("question_id", flat=True).order_by(),
            )
        )
        return frozenset(ids)

    return sessionuser.kept(request, "touched-questions", compute)


@dataclass
class Body:
    """One question's shared page, and both forms of each button that is the member's own."""

    question_id: int
    author_id: int
    slug: str
    html: str
    question: Question | None = None  # for the physicians' duty panel
    thank: dict[int, tuple[str, str]] = field(default_factory=dict)  # pk: (to thank, thanked)
    follow: tuple[str, str] = ("", "")  # (to follow, following)


def cached(request, pk: int, kind: str = MEMBER) -> tuple[str | None, Body | None]:
    """The cache key for question ``pk`` now (None: nothing may be cached), and its page if kept."""
    version = listcache.version()
    if version is None:
        return None, None
    # Staff have the admin in their menu: moderators may be staff or not.
    page_key = key(request, f"{kind}-question", pk, version, request.user.is_staff)
    return page_key, caches["pages"].get(page_key)


def store(page_key: str, body: Body) -> None:
    caches["pages"].set(page_key, body, TIMEOUT)


def render_body(request, context: dict) -> Body:
    """Render the page with slots, and each button both ways, for every plain member."""
    question, qpage = context["question"], context["qpage"]
    context = {**context, **layout_context()}
    html = render_to_string(
        "forum/question_detail.html", {**context, "member_slots": True}, request=request
    )
    body = Body(
        question_id=question.pk, author_id=question.author_id, slug=question.slug, html=html
    )
    for answer in qpage.answers:
        forms = []
        for thanked in (set(), {answer.pk}):
            page = {"thanked_ids": thanked}
            forms.append(
                render_to_string(
                    "forum/question_detail.html#thank_slot",
                    {**context, "answer": answer, "qpage": page},
                )
            )
        body.thank[answer.pk] = tuple(forms)
    follow = []
    for following in (False, True):
        page = {"is_following": following}
        follow.append(
            render_to_string("forum/question_detail.html#follow_slot", {**context, "qpage": page})
        )
    body.follow = tuple(follow)
    return body


def slots_for(body: Body, found: Personal) -> dict[str, str]:
    """What goes in the page's own slots for this member (``core.memberpage.fill``)."""
    thanked = set(found.rows.get(THANKS, ()))
    values = {
        f"thank:{pk}": done if pk in thanked else to_thank
        for pk, (to_thank, done) in body.thank.items()
    }
    values[f"follow:{body.question_id}"] = body.follow[FOLLOWING in found.rows]
    return values


def reader_question(request, pk: int) -> tuple[Question | None, selectors.QuestionPage | None]:
    """Question ``pk`` and what its page shows, for a reader the shared page does not serve.

    When the reader is no moderator, did not ask it and touched nothing of
    it (``touched_questions``), they see what a visitor does, with the plain
    thank and follow buttons: both are kept in this process under the
    forum's version. Moderators all see the same question, posts in every
    state and earlier versions, kept the same way for all of them; only
    their own thanks and follow are asked for, and only on a question they
    touched. Otherwise (None, None), or (the question, None) if it was
    looked up, for the page to be built for them. 404 as for anyone.
    """
    user = request.user
    if not getattr(settings, "SHUKANG_MEMBER_PAGE_CACHE", True) or not user.is_authenticated:
        return None, None
    moderator = user.is_moderator
    touched = touched_questions(request)
    if touched is None or (pk in touched and not moderator):
        return None, None
    version = listcache.version()
    if version is None:
        return None, None
    page_key = f"{'moderator' if moderator else 'reader'}-question:{pk}:{version}"
    kept = caches["pages"].get(page_key)
    if kept is None:
        question = selectors.question_get_for_viewer(pk=pk, viewer=user)
        if not (moderator or question.is_published) or question.author_id == user.pk:
            return question, None
        viewer = user if moderator else AnonymousUser()
        kept = (question, selectors.question_page(question=question, viewer=viewer, own=False))
        caches["pages"].set(page_key, kept, TIMEOUT)
    question, page = kept
    if question.author_id == user.pk:
        return question, None
    if pk in touched:  # a moderator's own thanks and follow here (one UNION)
        rows = personal(request, question_parts(pk)).rows
        page.is_following = FOLLOWING in rows
        page.thanked_ids = set(rows.get(THANKS, ()))
    return question, page
