"""Events: created, changed and cancelled by organisers; attendees hear of changes."""

from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User, user_is_verified_doctor
from core.markdown import render_markdown
from forum.models import Category
from notifications.models import Verb
from notifications.services import notify
from salon import listcache, live
from salon.models import RSVP, Event
from salon.services.common import in_each_language, local_time, require_organiser
from salon.services.places import counts, fill_places, store_counts

TITLE_MIN, TITLE_MAX = 5, 150

EVENT_FIELDS = (
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "is_online",
    "online_url",
    "capacity",
    "has_waitlist",
    "waitlist_limit",
    "category",
)


def _validate_event(event: Event, hosts: list[User]) -> None:
    errors = {}
    length = len(event.title)
    if not TITLE_MIN <= length <= TITLE_MAX:
        errors["title"] = _("Give the event a title of %(min)d to %(max)d characters.") % {
            "min": TITLE_MIN,
            "max": TITLE_MAX,
        }
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        errors["ends_at"] = _("The event must end after it starts.")
    if event.capacity is None or event.capacity < 1:
        errors["capacity"] = _("An event needs at least one place.")
    if not event.is_online and not event.location:
        errors["location"] = _("Give the place, or mark the event as online.")
    if event.online_url and not event.online_url.startswith("https://"):
        errors["online_url"] = _("The meeting link must start with https://.")
    refused = [host.name for host in hosts if not user_is_verified_doctor(host)]
    if refused:
        errors["hosts"] = _("Only verified physicians can host: %(names)s.") % {
            "names": ", ".join(refused)
        }
    if errors:
        raise ValidationError(errors)
    event.full_clean(exclude=["hosts", "state", "description_html", "created_by"])


def event_create(
    *,
    organiser: User,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    description: str = "",
    location: str = "",
    is_online: bool = False,
    online_url: str = "",
    has_waitlist: bool = True,
    waitlist_limit: int | None = None,
    state: str = Event.State.DRAFT,
    hosts: list[User] | None = None,
    category: Category | None = None,
) -> Event:
    """Create an event; only organisers may, and it cannot start out cancelled."""
    require_organiser(organiser)
    if state not in (Event.State.DRAFT, Event.State.PUBLISHED):
        raise ValidationError({"state": _("A new event is either a draft or published.")})
    hosts = list(hosts or [])
    event = Event(
        title=title.strip(),
        description=description.strip(),
        description_html=render_markdown(description),
        starts_at=starts_at,
        ends_at=ends_at,
        location=location.strip(),
        is_online=is_online,
        online_url=online_url.strip(),
        capacity=capacity,
        has_waitlist=has_waitlist,
        waitlist_limit=waitlist_limit if has_waitlist else None,
        state=state,
        category=category,
        created_by=organiser,
    )
    _validate_event(event, hosts)
    with transaction.atomic():
        event.save()
        event.hosts.set(hosts)
        if event.is_published:
            listcache.event_changed(event, before=None)
    return event


def event_update(
    *,
    event: Event,
    organiser: User,
    hosts: list[User] | None = None,
    state: str | None = None,
    **changes,
) -> Event:
    """Change an event; attendees hear of a new time or place, or of a cancellation.

    Takes the event's row lock: the capacity may not drop below the places
    already confirmed, and a raised capacity promotes people from the waitlist.
    After the commit, live-room sockets whose person's role may have changed
    (everyone's when the state did) check it again and close if it is gone.
    """
    require_organiser(organiser)
    unknown = set(changes) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"event_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        on_home = listcache.home_card(event)
        before = {name: getattr(event, name) for name in EVENT_FIELDS}
        before_state = event.state
        for name, value in changes.items():
            if isinstance(value, str):
                value = value.strip()
            setattr(event, name, value)
        if not event.has_waitlist:
            event.waitlist_limit = None
        event.description_html = render_markdown(event.description)
        old_hosts = list(event.hosts.all())
        new_hosts = old_hosts if hosts is None else list(hosts)
        confirmed, waitlisted = counts(event)
        # Checked before the model's constraints, which would say the same less kindly.
        if isinstance(event.capacity, int) and event.capacity < confirmed:
            raise ValidationError(
                {
                    "capacity": _(
                        "%(n)d people already have a confirmed place: "
                        "the capacity cannot be lower than that."
                    )
                    % {"n": confirmed}
                }
            )
        _validate_event(event, new_hosts)
        new_state = state or before_state
        if new_state != before_state:
            _check_state_change(before_state, new_state, active=confirmed + waitlisted)
        event.state = new_state
        moved = _time_or_place_changed(before, event)
        if moved:
            event.sequence += 1
        event.save()
        if hosts is not None:
            event.hosts.set(new_hosts)
        if event.state != before_state:
            transaction.on_commit(partial(live.broadcast_access_changed, event.pk))
        elif changed_hosts := {host.pk for host in old_hosts} ^ {host.pk for host in new_hosts}:
            transaction.on_commit(
                partial(live.broadcast_access_changed, event.pk, user_ids=sorted(changed_hosts))
            )
        if event.state == Event.State.CANCELLED and before_state != Event.State.CANCELLED:
            _notify_cancelled(event, actor=organiser)
        elif event.is_published:
            if moved and before_state == Event.State.PUBLISHED:
                _notify_changed(event, before, actor=organiser)
            fill_places(event)
        store_counts(event)
        listcache.event_changed(event, before=on_home)
    return event


def event_cancel(*, event: Event, organiser: User) -> Event:
    """Cancel an event; everyone with a place or on the waitlist is told."""
    return event_update(event=event, organiser=organiser, state=Event.State.CANCELLED)


def _check_state_change(before: str, after: str, *, active: int) -> None:
    if before == Event.State.CANCELLED:
        raise ValidationError(
            {"state": _("A cancelled event cannot be reopened: create a new event instead.")}
        )
    if after == Event.State.DRAFT and active:
        raise ValidationError(
            {
                "state": _(
                    "People have signed up: cancel the event instead of turning it back into a draft."
                )
            }
        )


def _time_or_place_changed(before: dict, event: Event) -> bool:
    return any(
        before[name] != getattr(event, name)
        for name in ("starts_at", "ends_at", "location", "is_online")
    )


def _attendees(event: Event):
    """Everyone holding a place or waiting for one."""
    return User.objects.filter(
        salon_rsvps__event=event,
        salon_rsvps__status__in=[RSVP.Status.CONFIRMED, RSVP.Status.WAITLISTED],
    )


def _notify_cancelled(event: Event, *, actor: User) -> None:
    notify(
        recipients=_attendees(event),
        verb=Verb.EVENT_CANCELLED,
        url=event.get_absolute_url(),
        data={"title": event.title},
        actor=actor,
    )


def _notify_changed(event: Event, before: dict, *, actor: User) -> None:
    def change() -> str:
        parts = []
        if before["starts_at"] != event.starts_at or before["ends_at"] != event.ends_at:
            start, end = local_time(event.starts_at), local_time(event.ends_at)
            parts.append(
                _("it now starts on %(date)s at %(start)s and ends at %(end)s (%(zone)s).")
                % {
                    "date": start.strftime("%Y-%m-%d"),
                    "start": start.strftime("%H:%M"),
                    "end": end.strftime("%H:%M")
                    if end.date() == start.date()
                    else end.strftime("%Y-%m-%d %H:%M"),
                    "zone": settings.TIME_ZONE,
                }
            )
        if before["location"] != event.location or before["is_online"] != event.is_online:
            if event.location:
                parts.append(_("the place is now: %(place)s.") % {"place": event.location})
            else:
                parts.append(_("it now takes place online."))
        return " ".join(parts)

    notify(
        recipients=_attendees(event),
        verb=Verb.EVENT_CHANGED,
        url=event.get_absolute_url(),
        data={"title": event.title, "change": in_each_language(change)},
        actor=actor,
    )
