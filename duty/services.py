"""Routing questions to the physician on duty, claims, passes, reminders and escalations.

Every notification here names the question and its topic, never more than a
physician may read on the question page itself.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PhysicianProfile, user_is_verified_doctor
from core.ratelimit import require_can_post
from duty.models import Holiday, Pass, Routing, Shift, TumourGroup
from forum.events import _both_languages
from forum.models import PostState, Question
from notifications.models import Verb
from notifications.services import notify


def department_zone() -> ZoneInfo:
    """The department's calendar: a duty day runs midnight to midnight in Asia/Shanghai."""
    return ZoneInfo(settings.SHUKANG_DEPARTMENT_TIME_ZONE)


def department_day(moment: datetime | None = None) -> date:
    return timezone.localtime(moment or timezone.now(), department_zone()).date()


def group_of(category_id: int | None) -> TumourGroup | None:
    if category_id is None:
        return None
    return TumourGroup.objects.filter(category_id=category_id).select_related("lead").first()


def on_duty(group: TumourGroup, day: date):
    """The verified physician on duty for ``group`` on ``day``; None on holidays or gaps."""
    if Holiday.objects.filter(day=day).exists():
        return None
    shift = (
        Shift.objects.filter(
            group=group,
            day=day,
            physician__is_active=True,
            physician__physician_profile__status=PhysicianProfile.Status.VERIFIED,
        )
        # A suspended physician cannot answer: the specialty hears instead.
        .exclude(physician__suspended_until__gt=timezone.now())
        .select_related("physician")
        .first()
    )
    return shift.physician if shift else None


def specialists(category_id: int) -> QuerySet:
    """Every active verified physician of the specialty who may answer now (not suspended)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            physician_profile__status=PhysicianProfile.Status.VERIFIED,
            physician_profile__specialties=category_id,
        )
        .exclude(suspended_until__gt=timezone.now())
    )


def _tell(recipients, *, verb: str, question: Question, actor=None, **extra) -> list:
    return notify(
        recipients=recipients,
        verb=verb,
        url=question.get_absolute_url(),
        data={
            "title": question.title,
            "category": _both_languages(question.category),
            **extra,
        },
        actor=actor,
    )


def question_route(question: Question) -> set[int]:
    """Send a newly published question to its group's physician on duty.

    The clock starts now, at publication: a question a moderator held
    starts when it is approved. With nobody on duty that day (a holiday, a
    gap in the roster), every verified physician of the specialty is told
    instead, so no question falls through. Returns whom it told. Called once
    per question; a second call changes nothing.
    """
    group = group_of(question.category_id)
    routing, created = Routing.objects.get_or_create(
        question=question,
        defaults={
            "group": group,
            "published_at": timezone.now(),
            "target_hours": group.target_hours if group else settings.SHUKANG_ANSWER_TARGET_HOURS,
        },
    )
    if not created or group is None:
        return set()
    physician = on_duty(group, department_day(routing.published_at))
    if physician is not None:
        Routing.objects.filter(pk=routing.pk).update(on_duty=physician)
        recipients = [physician]
    else:
        recipients = list(specialists(group.category_id))
    _tell(recipients, verb=Verb.DUTY_QUESTION, question=question, actor=question.author)
    return {user.pk for user in recipients}


def _routing_for(question: Question) -> Routing:
    """The question's routing; questions published before the roster get one now."""
    group = group_of(question.category_id)
    routing, _created = Routing.objects.get_or_create(
        question=question,
        defaults={
            "group": group,
            "published_at": question.created_at,
            "target_hours": group.target_hours if group else settings.SHUKANG_ANSWER_TARGET_HOURS,
        },
    )
    return routing


def claim_lapse() -> timedelta:
    return timedelta(minutes=settings.SHUKANG_CLAIM_MINUTES)


def claim_active(routing: Routing, now: datetime | None = None) -> bool:
    return (
        routing.claimed_by_id is not None
        and routing.claimed_at is not None
        and routing.claimed_at > (now or timezone.now()) - claim_lapse()
    )


def _require_physician(user, *, or_moderator: bool = False) -> None:
    if or_moderator and user.is_authenticated and user.is_moderator:
        return
    if not user_is_verified_doctor(user):
        raise PermissionDenied(_("Only verified physicians can do this."))
    # A suspended physician cannot answer, so claims and passes nothing either:
    # a claim would tell the others someone is answering who cannot.
    require_can_post(user)


def question_claim(*, question: Question, physician) -> Routing:
    """ "I'm answering this": one physician at a time, until they answer or it lapses.

    Two physicians claiming at once: the database lets exactly one through.
    Claiming again renews one's own claim.
    """
    _require_physician(physician)
    if not question.is_published or question.is_locked:
        raise ValidationError(_("This question is not open for answers."))
    routing = _routing_for(question)
    now = timezone.now()
    claimable = Routing.objects.filter(pk=routing.pk, first_answer_at__isnull=True).filter(
        Q(claimed_by__isnull=True)
        | Q(claimed_at__lte=now - claim_lapse())
        | Q(claimed_by=physician)
    )
    won = claimable.update(claimed_by=physician, claimed_at=now)
    routing.refresh_from_db()
    if not won and routing.first_answer_at is None and routing.claimed_by_id is None:
        # The other physician let go between our two reads: it is free again.
        won = claimable.update(claimed_by=physician, claimed_at=now)
        routing.refresh_from_db()
    if not won:
        if routing.first_answer_at is not None:
            raise ValidationError(_("A physician has already answered this question."))
        holder = routing.claimed_by
        raise ValidationError(
            _("%(name)s is already answering this question.")
            % {"name": holder.name if holder else _("Another physician")}
        )
    return routing


def question_unclaim(*, question: Question, physician) -> None:
    """Let go of one's own claim."""
    Routing.objects.filter(question=question, claimed_by=physician).update(
        claimed_by=None, claimed_at=None
    )


def question_pass(*, question: Question, by, to_group: TumourGroup, note: str = "") -> Pass:
    """Send a question in the wrong topic to another group, with a note for them.

    It moves to that group's topic and its physician on duty (or the whole
    specialty) is told, with the note. The patient's clock keeps running.
    """
    _require_physician(by, or_moderator=True)
    if not question.is_published:
        raise ValidationError(_("This question is not open for answers."))
    if to_group.category_id == question.category_id:
        raise ValidationError(_("The question is already in that group."))
    note = note.strip()[:1000]
    from forum.services import question_recategorize

    with transaction.atomic():
        routing = _routing_for(question)
        from_group = routing.group
        question_recategorize(question=question, category=to_group.category)
        question.category = to_group.category
        physician = on_duty(to_group, department_day())
        Routing.objects.filter(pk=routing.pk).update(
            group=to_group, on_duty=physician, claimed_by=None, claimed_at=None
        )
        passed = Pass.objects.create(
            question=question, from_group=from_group, to_group=to_group, by=by, note=note
        )
        recipients = [physician] if physician else list(specialists(to_group.category_id))
        _tell(
            [r for r in recipients if r.pk != by.pk],
            verb=Verb.DUTY_PASSED,
            question=question,
            by=by.name,
            note=note,
        )
    return passed


def answer_recorded(*, question: Question, physician, at: datetime) -> None:
    """A physician's answer was published: the clock stops at the first one."""
    if not user_is_verified_doctor(physician):
        return
    routing = _routing_for(question)
    Routing.objects.filter(pk=routing.pk, first_answer_at__isnull=True).update(
        first_answer_at=at, first_answer_by=physician, claimed_by=None, claimed_at=None
    )


def waiting_routings(now: datetime) -> QuerySet[Routing]:
    """Routed questions still public and without a physician's answer."""
    return Routing.objects.filter(
        first_answer_at__isnull=True,
        group__isnull=False,
        question__state=PostState.PUBLISHED,
        question__deleted_at__isnull=True,
        question__duplicate_of__isnull=True,
        # A locked question takes no answers: nobody is reminded of it.
        question__is_locked=False,
        published_at__lte=now,
    ).select_related(
        "question", "question__category", "group", "group__category", "group__lead", "on_duty"
    )


def _moderators():
    return get_user_model().objects.moderators()


def reminders_and_escalations_send(now: datetime | None = None) -> dict[str, int]:
    """Remind the physician on duty at half the target; escalate at the target.

    Run every few minutes by the scheduler. Each step is stamped on the
    routing by a conditional update before anyone is told, so a rerun, an
    overlap or a second worker never reminds or escalates twice.
    """
    now = now or timezone.now()
    sent = {"reminded": 0, "escalated": 0}
    for routing in waiting_routings(now).filter(
        Q(reminded_at__isnull=True) | Q(escalated_at__isnull=True)
    ):
        target = timedelta(hours=routing.target_hours)
        question = routing.question
        if routing.escalated_at is None and routing.published_at + target <= now:
            with transaction.atomic():
                if Routing.objects.filter(pk=routing.pk, escalated_at__isnull=True).update(
                    escalated_at=now, reminded_at=routing.reminded_at or now
                ):
                    lead = [routing.group.lead] if routing.group.lead_id else []
                    _tell(
                        [*lead, *_moderators()],
                        verb=Verb.DUTY_ESCALATED,
                        question=question,
                        hours=routing.target_hours,
                    )
                    sent["escalated"] += 1
        elif routing.reminded_at is None and routing.published_at + target / 2 <= now:
            with transaction.atomic():
                if Routing.objects.filter(pk=routing.pk, reminded_at__isnull=True).update(
                    reminded_at=now
                ):
                    physician = on_duty(routing.group, department_day(now)) or routing.on_duty
                    recipients = (
                        [physician] if physician else list(specialists(routing.group.category_id))
                    )
                    _tell(
                        recipients,
                        verb=Verb.DUTY_REMINDER,
                        question=question,
                        hours=routing.target_hours,
                    )
                    sent["reminded"] += 1
    return sent
