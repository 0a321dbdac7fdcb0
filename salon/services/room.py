"""The live room: short questions for the hosts, votes, answers, and the forum afterwards."""

from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User, user_is_verified_doctor
from core.markdown import render_markdown
from core.ratelimit import rate_limit, require_can_post
from core.validation import check_length
from forum import services as forum_services
from forum.models import Category
from forum.models import Question as ForumQuestion
from moderation import detectors
from salon import live, selectors
from salon.models import Event, LiveQuestion, Vote
from salon.services.common import can_moderate_room, local_time

QUESTION_MIN, QUESTION_MAX = 10, 500
ANSWER_MAX = 10_000
# Forum answers need this many characters; shorter answers wait in the room.
FORUM_ANSWER_MIN = forum_services.ANSWER_MIN
DEFAULT_FORUM_CATEGORY = "living-with-cancer"


def _require_room_member(event: Event, user: User) -> None:
    if selectors.room_role(event=event, viewer=user) is None:
        raise PermissionDenied(
            _("Only people with a confirmed place can take part in the live room.")
        )


def _require_room_open(event: Event) -> None:
    if not event.is_published:
        raise ValidationError(_("This event's live room is closed."))
    if event.is_past:
        raise ValidationError(
            _("The event is over: the live room takes no more questions or votes.")
        )


def _require_same_event(event: Event, question: LiveQuestion) -> None:
    if question.event_id != event.pk:
        raise ValidationError(_("That question belongs to another event."))


def live_question_create(
    *, event: Event, author: User, body: str, is_anonymous: bool = False
) -> LiveQuestion:
    """Ask the hosts a short question; everyone in the room sees it at once.

    The forum's personal-data rules apply, but a live room has no review
    queue: a question carrying personal data goes back to its author to
    remove it. Rate-limited per person like forum posts ("salon_question").
    The same words from the same person within the forum's
    ``DUPLICATE_WINDOW`` (a double click) return the question already asked,
    broadcast once and counted once (``forum.services.post_duplicate_find``).
    """
    require_can_post(author)
    _require_room_member(event, author)
    _require_room_open(event)
    check_length("body", body, QUESTION_MIN, QUESTION_MAX)
    findings = detectors.find_personal_data(body)
    if findings:
        raise ValidationError(
            {
                "body": _(
                    "Please remove the personal data from your question (%(items)s): "
                    "everyone in the room can read it, and the hosts never need it."
                )
                % {"items": ", ".join(f"“{f.text}” {f.explanation}" for f in findings)}
            }
        )
    with transaction.atomic():
        earlier = forum_services.post_duplicate_find(
            posts=LiveQuestion.objects.filter(event=event), author=author, body=body
        )
        if earlier is not None:
            return earlier
        rate_limit(user=author, action="salon_question")
        question = LiveQuestion.objects.create(
            event=event,
            author=author,
            body=body.strip(),
            body_html=render_markdown(body),
            is_anonymous=is_anonymous,
        )
        transaction.on_commit(partial(live.broadcast_question, question.pk))
    return question


def live_question_vote(*, event: Event, question: LiveQuestion, user: User) -> bool:
    """Upvote a question once; a second vote from the same person changes nothing."""
    _require_same_event(event, question)
    require_can_post(user)
    _require_room_member(event, user)
    _require_room_open(event)
    try:
        with transaction.atomic():
            Vote.objects.create(question=question, user=user)
            # The unique constraint admits one row per person, so counting up is exact.
            LiveQuestion.objects.filter(pk=question.pk).update(vote_count=F("vote_count") + 1)
            transaction.on_commit(partial(live.broadcast_vote, question.pk))
    except IntegrityError:
        return False
    question.vote_count += 1
    return True


def live_question_mark_answered(
    *, event: Event, question: LiveQuestion, user: User, answer: str = ""
) -> LiveQuestion:
    """Mark a question answered, with what the host said; it moves down the list for everyone."""
    _require_same_event(event, question)
    if not can_moderate_room(event, user):
        raise PermissionDenied(
            _("Only the host physicians and the organisers can mark questions answered.")
        )
    if not event.is_published:
        raise ValidationError(_("This event's live room is closed."))
    if len(answer.strip()) > ANSWER_MAX:
        raise ValidationError(
            {"answer": _("Please keep it under %(max)d characters.") % {"max": ANSWER_MAX}}
        )
    with transaction.atomic():
        question = LiveQuestion.objects.select_for_update().get(pk=question.pk)
        if question.forum_answer_id:
            raise ValidationError(_("This question is already published in the forum."))
        question.is_answered = True
        question.answer = answer.strip() or question.answer
        question.answered_by = user
        question.answered_at = timezone.now()
        question.save(update_fields=["is_answered", "answer", "answered_by", "answered_at"])
        transaction.on_commit(partial(live.broadcast_answered, question.pk))
    return question


@dataclass
class PublishResult:
    # Forum questions that now carry the host's answer.
    published: list[ForumQuestion] = field(default_factory=list)
    # In the forum, but held for a moderator (e.g. a new account's first post):
    # the answer is added by the next publication after it is approved.
    held: int = 0
    # Not published yet: no written answer long enough for the forum, no host
    # physician to credit, or the forum refused for now (rate limit, suspension).
    waiting: int = 0


def _forum_title(text: str) -> str:
    plain = " ".join(strip_tags(render_markdown(text)).split())
    title = Truncator(plain).chars(forum_services.TITLE_MAX)
    if len(title) < forum_services.TITLE_MIN:
        title = _("Salon question: %(text)s") % {"text": title}
    return title


def live_questions_publish(*, event: Event, user: User) -> PublishResult:
    """Publish the event's answered questions, with their answers, as forum questions.

    Only after the event, by a host or an organiser. The asker is credited as
    the forum question's author and an anonymous question stays anonymous;
    the answer is credited to the host physician who gave it. Forum questions
    go through the forum's own services, so its moderation holds apply: one
    held for review gets its answer when published again after approval.
    Each question and each answer is published once (rows locked).
    """
    if not can_moderate_room(event, user):
        raise PermissionDenied(
            _("Only the host physicians and the organisers can publish the questions.")
        )
    if not event.is_published:
        raise ValidationError(_("Only questions of a published event can be published."))
    if not event.is_past:
        raise ValidationError(_("Answered questions can be published once the event is over."))
    hosts = [
        host
        for host in event.hosts.select_related("physician_profile")
        if user_is_verified_doctor(host)
    ]
    category = (
        event.category
        or Category.objects.filter(slug=DEFAULT_FORUM_CATEGORY).first()
        or Category.objects.first()
    )
    with translation.override(settings.LANGUAGE_CODE):
        credit = _("*Asked at the Shu-Kang Salon event “%(title)s”, %(date)s.*") % {
            "title": event.title,
            "date": local_time(event.starts_at).strftime("%Y-%m-%d"),
        }
    result = PublishResult()
    with transaction.atomic():
        questions = list(
            LiveQuestion.objects.select_for_update(of=("self",))
            .filter(event=event, is_answered=True, forum_answer__isnull=True)
            .select_related("author", "answered_by__physician_profile", "forum_question")
            .order_by("-vote_count", "created_at", "pk")
        )
        for question in questions:
            doctor = question.answered_by if user_is_verified_doctor(question.answered_by) else None
            doctor = doctor or (hosts[0] if hosts else None)
            if doctor is None or len(question.answer) < FORUM_ANSWER_MIN or category is None:
                result.waiting += 1
                continue
            try:
                if question.forum_question is None:
                    # The same words asked twice, minutes apart, are two live
                    # questions, and each needs a forum question of its own.
                    question.forum_question = forum_services.question_create(
                        author=question.author,
                        title=_forum_title(question.body),
                        body=f"{question.body}\n\n{credit}",
                        category=category,
                        is_anonymous=question.is_anonymous,
                        merge_repeats=False,
                    )
                    question.save(update_fields=["forum_question"])
                if not question.forum_question.is_published:
                    result.held += 1
                    continue
                question.forum_answer = forum_services.answer_create(
                    question=question.forum_question, author=doctor, body=question.answer
                )
            except (PermissionDenied, ValidationError):
                # The forum's rules said not now (a rate limit, a suspended or
                # deleted account, a locked question); nothing of it is stored.
                result.waiting += 1
                continue
            question.save(update_fields=["forum_answer"])
            result.published.append(question.forum_question)
    return result
