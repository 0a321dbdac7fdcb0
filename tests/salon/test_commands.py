from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification, Verb
from salon import services
from salon.models import RSVP
from tests.salon.conftest import move_event

pytestmark = pytest.mark.django_db


def reminders():
    return Notification.objects.filter(verb=Verb.EVENT_REMINDER)


def run() -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_event_reminders", stdout=out)
    return out.getvalue()


def soon(event, hours=20):
    start = timezone.now() + timedelta(hours=hours)
    return move_event(event, starts_at=start, ends_at=start + timedelta(hours=2))


def test_confirmed_attendees_are_reminded_a_day_ahead_once(event_factory, user_factory):
    confirmed, waiting = user_factory(), user_factory()
    event = soon(event_factory(capacity=1, attendees=[confirmed, waiting]))
    assert run() == "Sent 1 salon event reminder(s).\n"
    reminder = reminders().get()
    assert reminder.recipient == confirmed and reminder.url == event.get_absolute_url()
    assert set(reminder.data["starts"]) == {"en", "zh-hans"}
    assert "Asia/Shanghai" in reminder.data["starts"]["en"]
    assert RSVP.objects.get(user=confirmed).reminded_for == event.starts_at
    # A second run, and a third, send nothing twice.
    assert run() == "Sent 0 salon event reminder(s).\n"
    assert run() == "Sent 0 salon event reminder(s).\n"
    assert reminders().count() == 1


def test_events_further_than_a_day_or_already_started_are_not_reminded(event_factory, patient):
    soon(event_factory(attendees=[patient]), hours=30)
    event_factory(when="live", attendees=[patient])
    event_factory(when="past", attendees=[patient])
    assert run() == "Sent 0 salon event reminder(s).\n"
    assert not reminders().exists()


def test_cancelled_events_and_cancelled_places_are_not_reminded(
    event_factory, organiser, user_factory
):
    stays, leaves = user_factory(), user_factory()
    cancelled = soon(event_factory(attendees=[stays]))
    services.event_cancel(event=cancelled, organiser=organiser)
    kept = soon(event_factory(attendees=[leaves]))
    services.rsvp_cancel(event=kept, user=leaves)
    run()
    assert not reminders().exists()


def test_someone_promoted_later_is_reminded_on_the_next_run(event_factory, user_factory):
    leaving, waiting = user_factory(), user_factory()
    event = soon(event_factory(capacity=1, attendees=[leaving, waiting]))
    run()
    services.rsvp_cancel(event=event, user=leaving)
    run()
    assert set(reminders().values_list("recipient_id", flat=True)) == {leaving.pk, waiting.pk}


def test_a_moved_event_is_reminded_again_for_its_new_time(event_factory, organiser, patient):
    event = soon(event_factory(attendees=[patient]))
    run()
    services.event_update(
        event=event,
        organiser=organiser,
        starts_at=event.starts_at + timedelta(hours=2),
        ends_at=event.ends_at + timedelta(hours=2),
    )
    run()
    run()
    assert reminders().filter(recipient=patient).count() == 2
