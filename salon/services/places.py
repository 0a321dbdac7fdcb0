"""Places at events: sign-up, the waitlist, cancellation and reminders.

The capacity rule (SPEC section 7: never more confirmed places than the
capacity, also under concurrent requests) holds because every change to an
event's places takes the event's row lock first (``select_for_update``) and
counts inside that lock. On SQLite, where ``select_for_update`` does nothing,
the IMMEDIATE transactions of config/settings.py serialise writers instead.
"""

from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.ratelimit import require_can_post
from notifications.models import Verb
from notifications.services import notify
from salon import listcache, live
from salon.models import RSVP, Event
from salon.services.common import when_text

REMINDER_AHEAD = timedelta(hours=24)


def counts(event: Event) -> tuple[int, int]:
    """Confirmed and waitlisted places, counted; call with the event locked."""
    totals = RSVP.objects.filter(event=event).aggregate(
        confirmed=Count("pk", filter=Q(status=RSVP.Status.CONFIRMED)),
        waitlisted=Count("pk", filter=Q(status=RSVP.Status.WAITLISTED)),
    )
    return totals["confirmed"], totals["waitlisted"]


def store_counts(event: Event) -> None:
    event.confirmed_count, event.waitlist_count = counts(event)
    Event.objects.filter(pk=event.pk).update(
        confirmed_count=event.confirmed_count, waitlist_count=event.waitlist_count
    )


def _require_open_for_rsvp(event: Event) -> None:
    if event.state == Event.State.DRAFT:
        raise ValidationError(_("This event is not open for sign-up yet."))
    if event.state == Event.State.CANCELLED:
        raise ValidationError(_("This event has been cancelled."))
    if event.is_past:
        raise ValidationError(_("This event is over."))


def rsvp_create(*, event: Event, user: User) -> RSVP:
    """Take a place at an event, or a place on its waitlist when it is full.

    Refused, like every write, to a suspended member (who may still give a
    place up: ``rsvp_cancel``). Locks the event row, so concurrent sign-ups
    are counted one after the other and the confirmed places never exceed
    the capacity.
    """
    require_can_post(user)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        _require_open_for_rsvp(event)
        on_home = listcache.home_card(event)
        rsvp = RSVP.objects.filter(event=event, user=user).first()
        if rsvp is not None and rsvp.status == RSVP.Status.CONFIRMED:
            raise ValidationError(_("You already have a place at this event."))
        if rsvp is not None and rsvp.status == RSVP.Status.WAITLISTED:
            raise ValidationError(_("You are already on the waitlist for this event."))
        confirmed, waitlisted = counts(event)
        if confirmed < event.capacity:
            status, position = RSVP.Status.CONFIRMED, None
        elif event.has_waitlist and (
            event.waitlist_limit is None or waitlisted < event.waitlist_limit
        ):
            status = RSVP.Status.WAITLISTED
            last = RSVP.objects.filter(event=event).aggregate(last=Max("position"))["last"]
            position = (last or 0) + 1
        elif event.has_waitlist:
            raise ValidationError(_("This event is full and its waitlist is full too."))
        else:
            raise ValidationError(_("This event is full and has no waitlist."))
        if rsvp is None:
            rsvp = RSVP(event=event, user=user)
        rsvp.status, rsvp.position = status, position
        rsvp.created_at = timezone.now()
        rsvp.reminded_for = None
        rsvp.save()
        store_counts(event)
        listcache.event_changed(event, before=on_home)
        if status == RSVP.Status.CONFIRMED:
            notify(
                recipients=[user],
                verb=Verb.RSVP_CONFIRMED,
                url=event.get_absolute_url(),
                data={"title": event.title},
            )
    return rsvp


def rsvp_cancel(*, event: Event, user: User) -> RSVP:
    """Give up a place or a waitlist spot; a freed place goes to the first on the waitlist.

    Locks the event row, like ``rsvp_create``. The person's live-room sockets
    close after the commit, unless they are also a host there.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.is_past:
            raise ValidationError(_("This event is over."))
        rsvp = (
            RSVP.objects.filter(event=event, user=user)
            .exclude(status=RSVP.Status.CANCELLED)
            .first()
        )
        if rsvp is None:
            raise ValidationError(_("You have no place at this event to cancel."))
        on_home = listcache.home_card(event)
        had_place = rsvp.status == RSVP.Status.CONFIRMED
        rsvp.status, rsvp.position = RSVP.Status.CANCELLED, None
        rsvp.save(update_fields=["status", "position", "updated_at"])
        if event.is_published:
            fill_places(event)
        store_counts(event)
        listcache.event_changed(event, before=on_home)
        if had_place:
            transaction.on_commit(
                partial(live.broadcast_access_changed, event.pk, user_ids=[user.pk])
            )
    return rsvp


def fill_places(event: Event) -> list[RSVP]:
    """Promote people from the waitlist, first come first served, into free places.

    The caller holds the event's row lock.
    """
    confirmed, _waitlisted = counts(event)
    free = event.capacity - confirmed
    if free <= 0:
        return []
    promoted = list(
        RSVP.objects.filter(event=event, status=RSVP.Status.WAITLISTED)
        .select_related("user")
        .order_by("position", "created_at", "pk")[:free]
    )
    if not promoted:
        return []
    RSVP.objects.filter(pk__in=[rsvp.pk for rsvp in promoted]).update(
        status=RSVP.Status.CONFIRMED, position=None, updated_at=timezone.now()
    )
    # No actor: the promoted person need not learn who gave up the place.
    notify(
        recipients=[rsvp.user for rsvp in promoted],
        verb=Verb.WAITLIST_PROMOTED,
        url=event.get_absolute_url(),
        data={"title": event.title},
    )
    return promoted


def reminders_send(*, now: datetime | None = None) -> int:
    """Remind confirmed attendees of events starting within 24 hours; returns how many people.

    Each place records the start time it was reminded for, claimed under a
    row lock, so a second run (or two at once) sends nothing twice, and an
    event moved to a new time is reminded again.
    """
    now = now or timezone.now()
    events = Event.objects.published().filter(
        starts_at__gt=now, starts_at__lte=now + REMINDER_AHEAD
    )
    sent = 0
    for event in events:
        with transaction.atomic():
            due = list(
                RSVP.objects.select_for_update()
                .filter(event=event, status=RSVP.Status.CONFIRMED)
                .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=event.starts_at))
                .values_list("pk", "user_id")
            )
            if not due:
                continue
            RSVP.objects.filter(pk__in=[pk for pk, _user in due]).update(
                reminded_for=event.starts_at
            )
            notify(
                recipients=User.objects.filter(pk__in=[user for _pk, user in due]),
                verb=Verb.EVENT_REMINDER,
                url=event.get_absolute_url(),
                data={"title": event.title, "starts": when_text(event.starts_at)},
            )
            sent += len(due)
    return sent
