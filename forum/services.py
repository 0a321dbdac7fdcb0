"""Every write to the forum: asking, answering, replying, thanking, following.

Each new or edited post passes through ``_post_submitted``, the one place
that decides its state (moderation plugs in there) and, once it is
published, what follows from it (counters, search, notifications).
A new post first asks ``post_duplicate_find`` whether the same person just
sent the same words (a double click); if so, that post is the answer.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User, user_is_verified_doctor
from attachments import services as attachment_services
from core import sessionuser
from core.markdown import render_markdown
from core.ratelimit import rate_limit, require_can_post
from core.validation import check_length
from forum import listcache, search
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
from forum.review import post_review
from moderation import services as moderation

TITLE_MIN, TITLE_MAX = 10, 150
BODY_MIN, BODY_MAX = 20, 10_000
REPLY_MIN, REPLY_MAX = 2, 2_000
ANSWER_MIN = 20
MAX_TAGS = 5
# Sending the same words to the same place again within this window is taken
# for a double click or a resent form, not a second post.
DUPLICATE_WINDOW = timedelta(minutes=2)


def _can_create_tags(user: User) -> bool:
    return user.is_moderator or user_is_verified_doctor(user)


def tags_resolve(*, names: list[str], user: User) -> list[Tag]:
    """Turn typed tag names into tags; only doctors and moderators add new ones."""
    cleaned = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("Use at most %(max)d tags.") % {"max": MAX_TAGS}})
    tags = []
    for name in cleaned:
        tag = Tag.objects.filter(
            Q(name__iexact=name) | Q(name_zh=name) | Q(slug=slugify(name))
        ).first()
        if tag is None:
            if not _can_create_tags(user):
                raise ValidationError(
                    {
                        "tags": _(
                            "“%(name)s” is not an existing tag. Choose from the suggested tags."
                        )
                        % {"name": name}
                    }
                )
            if len(name) > 40:
                raise ValidationError({"tags": _("A tag may have at most 40 characters.")})
            slug = slugify(name, allow_unicode=True)[:50] or f"tag-{Tag.objects.count() + 1}"
            tag = Tag.objects.create(name=name, slug=slug)
        tags.append(tag)
    return tags


def _question_slug(title: str) -> str:
    return slugify(title, allow_unicode=True)[:80].strip("-") or "q"


def _save_revision(post, *, editor: User) -> None:
    Revision.objects.create(
        post=post, title=getattr(post, "title", ""), body=post.body, editor=editor
    )


def _refresh_question(question: Question) -> None:
    """Recount a question's published answers, replies and thanks; rebuild its search text."""
    answers = list(
        Answer.objects.published().filter(question=question).values_list("body", "thanks_count")
    )
    stats = Reply.objects.published().filter(question=question).aggregate(n=Count("pk"))
    question.answer_count = len(answers)
    question.reply_count = stats["n"]
    question.thanks_count = sum(thanks for _body, thanks in answers)
    indexed = search.index_fields(
        title=question.title,
        labels=search.question_labels(question),
        texts=(question.body, *(body for body, _t in answers)),
    )
    question.search_document = indexed["search_document"]
    listcache.invalidate()
    Question.objects.filter(pk=question.pk).update(
        answer_count=question.answer_count,
        reply_count=question.reply_count,
        thanks_count=question.thanks_count,
        **indexed,
    )
    # After the counters: an UPDATE's expressions read the row as it was.
    search.boost_refresh([question.pk])


def _post_text(post) -> str:
    return f"{post.title}\n{post.body}" if isinstance(post, Question) else post.body


def _post_submitted(post, *, is_new: bool) -> None:
    """Record a new or edited post: its state, counters and what follows publication.

    The one place every question, answer and reply passes through: the
    automatic holds of SPEC section 5 decide the state, a held post opens a
    case for the moderators, and only a published new post is announced.
    """
    question = post if isinstance(post, Question) else post.question
    review = post_review(
        post=post,
        author=post.author,
        text=_post_text(post),
        previous_state=None if is_new else post.state,
    )
    post.state = review.state
    post.moderation_reason = review.message if review.state == PostState.PENDING else ""
    post.save()
    if post.state == PostState.PUBLISHED and is_new and not isinstance(post, Question):
        Question.objects.filter(pk=question.pk).update(last_activity_at=post.created_at)
    _refresh_question(question)
    if post.state == PostState.PENDING:
        moderation.case_open_for_held_post(post=post, reasons=review.reasons)
    elif post.state == PostState.PUBLISHED and is_new:
        _post_published(post)


def _post_published(post) -> None:
    """What a newly published post sets off: followers and live viewers hear of it."""
    from forum import events

    events.post_published(post)


def post_publish(*, post, announce: bool) -> None:
    """Publish a post a moderator approved; announce it if nobody has seen it yet.

    Called by moderation with the post locked; a post restored after flags
    is not announced a second time.
    """
    question = post if isinstance(post, Question) else post.question
    post.state = PostState.PUBLISHED
    post.moderation_reason = ""
    post.save(update_fields=["state", "moderation_reason", "updated_at"])
    if announce and not isinstance(post, Question):
        Question.objects.filter(pk=question.pk).update(last_activity_at=timezone.now())
    _refresh_question(question)
    if announce:
        _post_published(post)


def post_withdraw(*, post, state: str, reason: str = "") -> None:
    """Take a post out of public view (rejected or hidden), keeping counters right."""
    post.state = state
    post.moderation_reason = reason
    post.save(update_fields=["state", "moderation_reason", "updated_at"])
    if isinstance(post, Answer):
        Question.objects.filter(pk=post.question_id, accepted_answer=post).update(
            accepted_answer=None
        )
    _refresh_question(post if isinstance(post, Question) else post.question)


def question_recategorize(*, question: Question, category: Category) -> None:
    """Move a question to another topic (a physician passing it to another group).

    The text is untouched, so it is no edit of the author's; the lists, the
    search (which knows topic names) and the page caches follow.
    """
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.category_id == category.pk:
            return
        question.category = category
        question.save(update_fields=["category", "updated_at"])
        _refresh_question(question)


def post_redact(*, post, moderator: User, title: str, body: str, announce: bool) -> None:
    """Replace a held or flagged post's text (and a question's title), then publish it.

    Called by moderation with the post locked. The original is kept as a
    revision for moderators; readers see the post marked as edited by a
    moderator, not as the author's own edit.
    """
    changed = ["body", "body_html", "redacted_at", "updated_at"]
    if title.strip():
        if not isinstance(post, Question):
            raise ValidationError(_("Only a question has a title."))
        check_length("title", title, TITLE_MIN, TITLE_MAX)
    Revision.objects.create(
        post=post, title=getattr(post, "title", ""), body=post.body, editor=moderator
    )
    if title.strip() and title.strip() != post.title:
        # The slug is made from the title, so it may carry the same personal data.
        post.title, post.slug = title.strip(), _question_slug(title)
        changed += ["title", "slug"]
    post.body, post.body_html = body.strip(), render_markdown(body)
    post.redacted_at = timezone.now()
    post.save(update_fields=changed)
    post_publish(post=post, announce=announce)


def question_lock(
    *, question: Question, moderator: User, locked: bool = True, reason: str = ""
) -> None:
    """Close a question to new answers and replies, or open it again (moderators only)."""
    if not moderator.is_authenticated or not moderator.is_moderator:
        raise PermissionDenied(_("Only moderators can do this."))
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(is_locked=locked)
        listcache.invalidate()
        moderation.audit(
            moderator=moderator,
            action="lock" if locked else "unlock",
            target=question,
            reason=reason,
        )


def _normalised(text: str) -> str:
    return " ".join(text.split())


def post_duplicate_find(
    *, posts: QuerySet, author: User, body: str, title: str | None = None
) -> Model | None:
    """Return the author's post among ``posts`` with these words from the last few minutes.

    One post per intent: a double click or a resent form gets the post the
    first submit made, so nothing is stored or announced twice. A short
    window (``DUPLICATE_WINDOW``) checked here, rather than a one-time form
    token, covers every caller (pages, the live room's script, consumers) and
    keeps no state in the session.

    Call inside the creating service's ``transaction.atomic``, before it
    writes, and count the rate limit after it, so a repeat is not counted as
    a second action. It locks the author's row until that transaction ends:
    on PostgreSQL a second concurrent submit waits for the first to commit,
    then (READ COMMITTED) sees its post; on SQLite the IMMEDIATE transactions
    of config/settings.py already queue every writer. ``NO KEY UPDATE`` still
    lets other transactions write rows that point at the author
    (notifications, thanks). ``posts`` names the target (question, answer,
    event) and leaves out deleted posts; bodies and titles compare with
    whitespace collapsed.
    """
    User.objects.select_for_update(no_key=True).only("pk").get(pk=author.pk)
    since = timezone.now() - DUPLICATE_WINDOW
    wanted = _normalised(body)
    for post in posts.filter(author=author, created_at__gte=since).order_by("created_at"):
        if _normalised(post.body) != wanted:
            continue
        if title is None or _normalised(post.title) == _normalised(title):
            return post
    return None


# Questions


def question_create(
    *,
    author: User,
    title: str,
    body: str,
    category: Category,
    tags: list[str] | None = None,
    is_anonymous: bool = False,
    asker: str = Question.Asker.NOT_SAID,
    stage: str = "",
    treatment: str = "",
    regimen: str = "",
    cycle: int | None = None,
    merge_repeats: bool = True,
    attachments: list | None = None,
) -> Question:
    """Ask a question; the asker follows it, and their checked images go to the worker.

    The same title and body from the same person within ``DUPLICATE_WINDOW``
    (a double click) return the question already asked, uncounted by the rate
    limit and announced once. ``merge_repeats=False`` is for callers that
    create each question once under their own lock and may mean two.
    """
    require_can_post(author)
    check_length("title", title, TITLE_MIN, TITLE_MAX)
    check_length("body", body, BODY_MIN, BODY_MAX)
    with transaction.atomic():
        if merge_repeats:
            earlier = post_duplicate_find(
                posts=Question.objects.live(), author=author, body=body, title=title
            )
            if earlier is not None:
                return earlier
        rate_limit(user=author, action="question")
        resolved_tags = tags_resolve(names=tags or [], user=author)
        question = Question(
            author=author,
            title=title.strip(),
            slug=_question_slug(title),
            body=body.strip(),
            body_html=render_markdown(body),
            category=category,
            is_anonymous=is_anonymous,
            asker=asker,
            stage=stage,
            treatment=treatment,
            regimen=regimen.strip(),
            cycle=cycle,
        )
        question.full_clean(
            exclude=["body_html", "search_document", "search_vector", "accepted_answer"]
        )
        question.save()
        question.tags.set(resolved_tags)
        Follow.objects.create(question=question, user=author)
        _post_submitted(question, is_new=True)
        attachment_services.attachments_add(
            owner=author, question=question, uploads=attachments or []
        )
    return question


def question_edit(
    *,
    question: Question,
    editor: User,
    title: str,
    body: str,
    category: Category,
    tags: list[str] | None = None,
    is_anonymous: bool | None = None,
    asker: str | None = None,
    stage: str = "",
    treatment: str = "",
    regimen: str = "",
    cycle: int | None = None,
) -> Question:
    """Change a question, keeping the previous version."""
    _require_author(question, editor)
    check_length("title", title, TITLE_MIN, TITLE_MAX)
    check_length("body", body, BODY_MIN, BODY_MAX)
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        resolved_tags = tags_resolve(names=tags or [], user=editor)
        _save_revision(question, editor=editor)
        question.title = title.strip()
        question.slug = _question_slug(title)
        question.body = body.strip()
        question.body_html = render_markdown(body)
        question.category = category
        if is_anonymous is not None:
            question.is_anonymous = is_anonymous
        if asker is not None:
            question.asker = asker
        question.stage, question.treatment = stage, treatment
        question.regimen, question.cycle = regimen.strip(), cycle
        question.edited_at = timezone.now()
        question.full_clean(
            exclude=["body_html", "search_document", "search_vector", "accepted_answer"]
        )
        question.tags.set(resolved_tags)
        _post_submitted(question, is_new=False)
    return question


def _require_author(post, user: User) -> None:
    if not user.is_authenticated or post.author_id != user.pk or post.deleted_at is not None:
        raise PermissionDenied(_("Only the author can change this."))
    require_can_post(user)


def _require_author_or_moderator(post, user: User) -> None:
    if not user.is_authenticated or (post.author_id != user.pk and not user.is_moderator):
        raise PermissionDenied(_("Only the author or a moderator can delete this."))


def post_delete(*, post, user: User) -> None:
    """Soft-delete a question, answer or reply; it disappears from every page."""
    _require_author_or_moderator(post, user)
    if post.deleted_at is not None:
        return
    with transaction.atomic():
        type(post).objects.filter(pk=post.pk).update(deleted_at=timezone.now())
        post.deleted_at = timezone.now()
        sessionuser.invalidate()  # the author's own posts, as their pages show them
        # Reports go with their post, from storage too: nobody can see them again.
        if isinstance(post, Question):
            attachment_services.attachments_delete_for(question=post)
        elif isinstance(post, Reply):
            attachment_services.attachments_delete_for(reply=post)
        if isinstance(post, Answer):
            Question.objects.filter(pk=post.question_id, accepted_answer=post).update(
                accepted_answer=None
            )
        if isinstance(post, Question):
            listcache.invalidate()
        else:
            _refresh_question(post.question)


def _require_open(question: Question) -> None:
    if not question.is_published:
        raise PermissionDenied(_("This question is not open for answers."))
    if question.is_locked:
        raise PermissionDenied(_("This question is locked: no new answers or replies."))


# Answers and replies


def answer_create(*, question: Question, author: User, body: str) -> Answer:
    """Answer a question; only verified physicians may.

    The same words on the same question within ``DUPLICATE_WINDOW`` return
    the answer already given (see ``post_duplicate_find``).
    """
    if not user_is_verified_doctor(author):
        raise PermissionDenied(_("Only verified physicians can answer questions."))
    require_can_post(author)
    _require_open(question)
    check_length("body", body, ANSWER_MIN, BODY_MAX)
    with transaction.atomic():
        earlier = post_duplicate_find(
            posts=Answer.objects.live().filter(question=question), author=author, body=body
        )
        if earlier is not None:
            return earlier
        rate_limit(user=author, action="answer")
        answer = Answer(
            question=question, author=author, body=body.strip(), body_html=render_markdown(body)
        )
        answer.save()
        _post_submitted(answer, is_new=True)
    return answer


def answer_edit(*, answer: Answer, editor: User, body: str) -> Answer:
    """Change an answer, keeping the previous version."""
    _require_author(answer, editor)
    check_length("body", body, ANSWER_MIN, BODY_MAX)
    with transaction.atomic():
        _save_revision(answer, editor=editor)
        answer.body, answer.body_html = body.strip(), render_markdown(body)
        answer.edited_at = timezone.now()
        _post_submitted(answer, is_new=False)
    return answer


def reply_create(
    *,
    question: Question,
    author: User,
    body: str,
    answer: Answer | None = None,
    attachments: list | None = None,
) -> Reply:
    """Reply under a question or one of its published answers.

    The asker may add images of reports to a reply under their own question.

    The same words under the same question or answer within
    ``DUPLICATE_WINDOW`` return the reply already posted.
    """
    require_can_post(author)
    _require_open(question)
    if answer is not None and (answer.question_id != question.pk or not answer.is_published):
        raise ValidationError(_("That answer is not part of this question."))
    check_length("body", body, REPLY_MIN, REPLY_MAX)
    if attachments and question.author_id != author.pk:
        raise PermissionDenied(_("Only the person who asked can share reports on this question."))
    with transaction.atomic():
        earlier = post_duplicate_find(
            posts=Reply.objects.live().filter(question=question, answer=answer),
            author=author,
            body=body,
        )
        if earlier is not None:
            return earlier
        rate_limit(user=author, action="reply")
        reply = Reply(
            question=question,
            answer=answer,
            author=author,
            body=body.strip(),
            body_html=render_markdown(body),
        )
        reply.save()
        _post_submitted(reply, is_new=True)
        attachment_services.attachments_add(
            owner=author, question=question, reply=reply, uploads=attachments or []
        )
    return reply


def reply_edit(*, reply: Reply, editor: User, body: str) -> Reply:
    """Change a reply, keeping the previous version."""
    _require_author(reply, editor)
    check_length("body", body, REPLY_MIN, REPLY_MAX)
    with transaction.atomic():
        _save_revision(reply, editor=editor)
        reply.body, reply.body_html = body.strip(), render_markdown(body)
        reply.edited_at = timezone.now()
        _post_submitted(reply, is_new=False)
    return reply


def answer_accept(*, answer: Answer, user: User) -> Answer:
    """Mark an answer as the one that helped; only the asker may, one at a time.

    Locks the question row so two quick clicks cannot accept twice.
    """
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=answer.question_id)
        if question.author_id != user.pk:
            raise PermissionDenied(_("Only the person who asked can accept an answer."))
        if not answer.is_published:
            raise ValidationError(_("This answer cannot be accepted."))
        if question.accepted_answer_id == answer.pk:
            return answer
        question.accepted_answer = answer
        question.save(update_fields=["accepted_answer"])
        search.boost_refresh([question.pk])
        listcache.invalidate()
        from forum import events

        events.answer_accepted(answer, by=user)
    return answer


def answer_unaccept(*, question: Question, user: User) -> None:
    """Withdraw the acceptance of an answer."""
    if question.author_id != user.pk:
        raise PermissionDenied(_("Only the person who asked can accept an answer."))
    with transaction.atomic():
        Question.objects.filter(pk=question.pk).update(accepted_answer=None)
        search.boost_refresh([question.pk])
        listcache.invalidate()


def answer_thank(*, answer: Answer, user: User) -> bool:
    """Thank an answer once; a second thanks from the same person changes nothing."""
    if not user.is_authenticated:
        raise PermissionDenied
    if not answer.is_published:
        raise ValidationError(_("This answer cannot be thanked."))
    if answer.author_id == user.pk:
        raise ValidationError(_("You cannot thank your own answer."))
    try:
        with transaction.atomic():
            Thanks.objects.create(answer=answer, user=user)
            # The unique constraint admits one row per person, so counting up is exact.
            Answer.objects.filter(pk=answer.pk).update(thanks_count=F("thanks_count") + 1)
            Question.objects.filter(pk=answer.question_id).update(
                thanks_count=F("thanks_count") + 1
            )
            search.boost_refresh([answer.question_id])
            listcache.invalidate()
            from forum import events

            events.answer_thanked(answer, by=user)
    except IntegrityError:
        return False
    return True


def question_follow(*, question: Question, user: User) -> None:
    """Follow a question to hear of new answers and replies; suspended members may not."""
    require_can_post(user)
    Follow.objects.get_or_create(question=question, user=user)


def question_unfollow(*, question: Question, user: User) -> None:
    Follow.objects.filter(question=question, user=user).delete()


# Duplicates


def _require_duplicate_marker(user: User) -> None:
    if not user.is_authenticated:
        raise PermissionDenied(_("Only verified physicians can mark a question as a duplicate."))
    if user.is_moderator:
        return
    if not user_is_verified_doctor(user):
        raise PermissionDenied(_("Only verified physicians can mark a question as a duplicate."))
    require_can_post(user)


def _duplicate_audit(*, by: User, action: str, question: Question, original_id: int) -> None:
    moderation.audit(moderator=by, action=action, target=question, reason=f"#{original_id}")


def question_duplicate_mark(*, question: Question, original: Question, by: User) -> Question:
    """Point ``question`` to the answered ``original`` and tell the asker.

    Verified physicians and moderators may. An original that is itself a
    duplicate is followed to the question it points to, and questions that
    pointed to ``question`` move on with it: every link stays one step from
    an answer. Both rows are locked (``select_for_update``, lower id first)
    so two physicians linking the pair in opposite directions cannot make a
    loop. Marking again with the same original changes nothing (a double
    submit); pointing a duplicate elsewhere is for moderators. The duplicate
    keeps its thread, open as before. Written to the audit log.
    """
    _require_duplicate_marker(by)
    root_id = (
        Question.objects.filter(pk=original.pk).values_list("duplicate_of_id", flat=True).first()
        or original.pk
    )
    with transaction.atomic():
        locked = {
            row.pk: row
            for row in Question.objects.select_for_update()
            .filter(pk__in={question.pk, root_id})
            .order_by("pk")
        }
        question = locked.get(question.pk)
        target = locked.get(root_id)
        if question is None or not question.is_published:
            raise ValidationError(_("Only a published question can be marked as a duplicate."))
        if original.pk == question.pk:
            raise ValidationError({"original": _("A question cannot be a duplicate of itself.")})
        if target is None:
            raise ValidationError({"original": _("Choose a published question.")})
        if target.pk == question.pk:
            raise ValidationError(
                {"original": _("That question is already marked as a duplicate of this one.")}
            )
        if target.duplicate_of_id is not None:  # marked itself a moment ago
            raise ValidationError(
                {"original": _("That question has just been marked as a duplicate. Try again.")}
            )
        if not target.is_published:
            raise ValidationError({"original": _("Choose a published question.")})
        if not Answer.objects.published().filter(question=target).exists():
            raise ValidationError(
                {"original": _("Choose a question a physician has already answered.")}
            )
        if question.duplicate_of_id == target.pk:
            return question
        if question.duplicate_of_id is not None and not by.is_moderator:
            raise PermissionDenied(
                _("This question is already marked as a duplicate. Only a moderator can change it.")
            )
        Question.objects.filter(duplicate_of=question).update(duplicate_of=target)
        question.duplicate_of = target
        question.duplicate_marked_by = by
        question.duplicate_marked_at = timezone.now()
        Question.objects.filter(pk=question.pk).update(
            duplicate_of=target,
            duplicate_marked_by=by,
            duplicate_marked_at=question.duplicate_marked_at,
        )
        search.boost_refresh([question.pk])
        listcache.invalidate()
        _duplicate_audit(by=by, action="duplicate_mark", question=question, original_id=target.pk)
        from forum import events

        events.question_duplicate_marked(question, original=target, by=by)
    return question


def question_duplicate_unmark(*, question: Question, by: User) -> Question:
    """Take the duplicate link off ``question``; it shows as a question of its own again.

    Moderators may, and the physician who made the link (a slip is theirs
    to undo). Locks the question's row; undoing twice changes nothing.
    Written to the audit log; the asker is not notified again.
    """
    refused = PermissionDenied(_("Only a moderator or the physician who marked it can undo this."))
    if not by.is_authenticated:
        raise refused
    is_moderator = by.is_moderator
    if not is_moderator and not user_is_verified_doctor(by):
        raise refused
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.duplicate_of_id is None:
            return question
        if not is_moderator:
            if question.duplicate_marked_by_id != by.pk:
                raise refused
            require_can_post(by)
        original_id = question.duplicate_of_id
        question.duplicate_of = question.duplicate_marked_by = question.duplicate_marked_at = None
        Question.objects.filter(pk=question.pk).update(
            duplicate_of=None, duplicate_marked_by=None, duplicate_marked_at=None
        )
        search.boost_refresh([question.pk])
        listcache.invalidate()
        _duplicate_audit(
            by=by, action="duplicate_unmark", question=question, original_id=original_id
        )
    return question
