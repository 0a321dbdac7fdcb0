"""Reads for the question page and the physicians' home: the clock, claims, what waits."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from accounts.models import user_is_verified_doctor
from duty import figures, services
from duty.models import Routing, Shift, TumourGroup
from forum.models import Question


def sees_department(user) -> bool:
    """The roster and the dashboard are for verified physicians and moderators only."""
    return user.is_authenticated and (user.is_moderator or user_is_verified_doctor(user))


@dataclass
class Duty:
    """What the question page says of the department's promise, to one reader."""

    routing: Routing | None
    # The asker is told when to expect an answer; physicians see the claim and may pass.
    expect_by: datetime | None = None
    claim_active: bool = False
    claimed_by_me: bool = False
    can_claim: bool = False
    groups: list[TumourGroup] | None = None  # where a physician may pass it

    @property
    def waiting(self) -> timedelta | None:
        if self.routing is None or self.routing.first_answer_at is not None:
            return None
        return timezone.now() - self.routing.published_at


def for_question_page(*, question: Question, viewer, is_asker: bool) -> Duty | None:
    """At most two queries, and none for readers who are shown nothing of it."""
    is_physician = user_is_verified_doctor(viewer)
    staff = is_physician or (viewer.is_authenticated and viewer.is_moderator)
    # A duplicate points to its answer; nothing waits on it.
    if not question.is_published or question.duplicate_of_id or not (is_asker or staff):
        return None
    routing = (
        Routing.objects.filter(question=question)
        .select_related("claimed_by", "group__category")
        .first()
    )
    duty = Duty(routing=routing)
    if routing is not None and routing.first_answer_at is None:
        duty.expect_by = routing.due_at
        duty.claim_active = services.claim_active(routing)
        duty.claimed_by_me = duty.claim_active and routing.claimed_by_id == viewer.pk
    if staff:
        duty.can_claim = (
            is_physician
            and not viewer.is_suspended
            and not question.is_locked
            and (routing is None or routing.first_answer_at is None)
        )
        duty.groups = [
            group
            for group in TumourGroup.objects.select_related("category")
            if group.category_id != question.category_id
        ]
    return duty


@dataclass
class Waiting:
    routing: Routing
    waited: timedelta
    overdue: bool
    claimed_by_other: bool


def waiting_on_duty(*, physician, limit: int = 20) -> list[Waiting]:
    """Questions of the groups the physician is on duty for today, oldest first.

    Three queries: today's shifts, the waiting routings with their
    questions, and nothing per row.
    """
    today = services.department_day()
    groups = list(
        Shift.objects.filter(physician=physician, day=today).values_list("group_id", flat=True)
    )
    if not groups:
        return []
    now = timezone.now()
    rows = (
        services.waiting_routings(now)
        .filter(group_id__in=groups)
        .select_related("claimed_by")
        .order_by("published_at")[:limit]
    )
    return [
        Waiting(
            routing=routing,
            waited=now - routing.published_at,
            overdue=now >= routing.due_at,
            claimed_by_other=services.claim_active(routing, now)
            and routing.claimed_by_id != physician.pk,
        )
        for routing in rows
    ]


HOME_LINE_SECONDS = 3600


def home_line() -> figures.HomeLine | None:
    """The patients' line on the home page: last month's share answered within target.

    From ``duty.figures`` (one query), kept an hour in the cache under the
    month, so the home page pays for it once an hour, not once a visit.
    None until last month had enough questions to mean something.
    """
    now = timezone.now()
    month = timezone.localtime(now, services.department_zone()).strftime("%Y-%m")
    key = f"duty:home-line:{month}"
    stored = cache.get(key)
    if stored is None:
        stored = (figures.home_line(now),)  # a tuple, so "no line yet" is cached too
        cache.set(key, stored, HOME_LINE_SECONDS)
    return stored[0]
