"""Demo time: seed_demo's activity spread over past weeks, as a real forum grows.

The services stamp what they write with the present moment. A ``Timeline``
runs its steps in time order across accounts, forum and salon, notes when
each one finished, and then moves every timestamp a step wrote on the demo
people's rows to the moment that step stands for. Ids grow with time as in a
real database, so lists ordered by id (notifications) read in time order too.

The moderation audit log keeps the moment the seed really ran: it is
append-only, and it records when a moderator's action was taken.
"""

import zoneinfo
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

DEMO_DOMAIN = "@shukang.example"


def days_ago(now: datetime, days: int, clock: str) -> datetime:
    """``clock`` ("21:40", the site's time zone) on the day ``days`` before ``now``'s."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = timezone.localtime(now, zone).date() - timedelta(days=days)
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def _stamped() -> list[tuple[object, list[str], Q]]:
    """(model, timestamp fields, the demo people's rows) for everything a demo step writes."""
    from accounts.models import PhysicianProfile, User
    from duty.models import Routing
    from forum.models import Answer, Follow, Question, Reply, Thanks
    from moderation.models import Case
    from notifications.models import Notification
    from salon.models import RSVP, Event, LiveQuestion, Vote

    people = User.objects.filter(email__endswith=DEMO_DOMAIN).values("pk")
    posts = (Question, Answer, Reply)
    held = Q()
    for model in posts:
        held |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=model.objects.filter(author__in=people).values("pk"),
        )
    post_fields = ["created_at", "updated_at", "edited_at"]
    return [
        (User, ["date_joined"], Q(pk__in=people)),
        (PhysicianProfile, ["created_at", "updated_at", "decided_at"], Q(user__in=people)),
        (Question, [*post_fields, "last_activity_at"], Q(author__in=people)),
        (Answer, post_fields, Q(author__in=people)),
        (Reply, post_fields, Q(author__in=people)),
        (
            Routing,
            ["published_at", "claimed_at", "reminded_at", "escalated_at", "first_answer_at"],
            Q(question__author__in=people),
        ),
        (Thanks, ["created_at"], Q(user__in=people)),
        (Follow, ["created_at"], Q(user__in=people)),
        (Case, ["created_at", "resolved_at"], held),
        (Notification, ["created_at"], Q(recipient__in=people)),
        (Event, ["created_at", "updated_at"], Q(created_by__in=people)),
        (RSVP, ["created_at", "updated_at"], Q(user__in=people)),
        (LiveQuestion, ["created_at", "answered_at"], Q(author__in=people)),
        (Vote, ["created_at"], Q(user__in=people)),
    ]


def _backdate(since: datetime, moments: list[tuple[datetime, datetime]]) -> None:
    """Move each timestamp written since ``since`` to the demo moment of the step that wrote it.

    ``moments`` holds, in order, when each step finished and the moment it
    stands for. A value written during the run belongs to the first step
    that finished after it; older values, and other people's rows, are left
    alone. One UPDATE per model.
    """
    for model, fields, demo_rows in _stamped():
        written = Q()
        updates = {}
        for name in fields:
            written |= Q(**{f"{name}__gte": since})
            updates[name] = Case(
                When(**{f"{name}__lt": since}, then=F(name)),
                *(When(**{f"{name}__lte": until}, then=Value(when)) for until, when in moments),
                default=F(name),
            )
        model.objects.filter(demo_rows).filter(written).update(**updates)


class Timeline:
    """Demo steps, each at its moment; ``run`` performs them oldest first."""

    def __init__(self, now: datetime):
        self.now = now
        self.steps: list[tuple[datetime, int, Callable[[], object]]] = []

    def add(self, when: datetime, step: Callable[[], object]) -> None:
        if when > self.now:
            raise ValueError(f"A demo step at {when} would lie in the future.")
        self.steps.append((when, len(self.steps), step))

    def run(self) -> None:
        """Perform the steps in time order, then date what each wrote to its moment."""
        since = timezone.now()
        moments = []
        for when, _order, step in sorted(self.steps, key=lambda item: item[:2]):
            step()
            moments.append((timezone.now(), when))
        if moments:
            _backdate(since, moments)
