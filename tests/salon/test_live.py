"""What salon/live.py sends through the channel layer when someone's place in a room ends."""

import logging
import re

import pytest

from core import layer
from salon import live, services
from salon.models import RSVP

pytestmark = pytest.mark.django_db

ACCESS = {"type": live.ACCESS_EVENT}


def test_room_group_names_are_ones_channels_accepts():
    for name in (live.room_group(2**63 - 1), live.member_group(2**63 - 1, 2**63 - 1)):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name) and len(name) < 100


def test_cancelling_a_place_tells_that_persons_room_sockets_after_the_commit(
    event_factory, user_factory, django_capture_on_commit_callbacks, listen
):
    leaving, staying = user_factory(), user_factory()
    event = event_factory(attendees=[leaving, staying])
    # Each listener is read once: channels-redis binds a channel's buffer to one event loop.
    before_commit = listen(live.member_group(event.pk, leaving.pk))
    theirs = listen(live.member_group(event.pk, leaving.pk))
    others = listen(live.member_group(event.pk, staying.pk))
    room = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.rsvp_cancel(event=event, user=leaving)
    assert before_commit() == []
    for callback in callbacks:
        callback()
    assert theirs() == [ACCESS]
    assert others() == [] and room() == []


def test_giving_up_a_waitlist_spot_sends_nothing(
    event_factory, user_factory, django_capture_on_commit_callbacks, listen
):
    confirmed, waiting = user_factory(), user_factory()
    event = event_factory(capacity=1, attendees=[confirmed, waiting])
    received = listen(live.member_group(event.pk, waiting.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.rsvp_cancel(event=event, user=waiting)
    assert received() == []


def test_cancelling_the_event_tells_the_whole_room(
    event_factory, organiser, django_capture_on_commit_callbacks, listen
):
    event = event_factory()
    room = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event, organiser=organiser)
    assert room() == [ACCESS]


def test_changing_the_hosts_tells_those_added_and_removed(
    event_factory, organiser, host, doctor_factory, django_capture_on_commit_callbacks, listen
):
    event = event_factory()
    newcomer = doctor_factory()
    removed = listen(live.member_group(event.pk, host.pk))
    added = listen(live.member_group(event.pk, newcomer.pk))
    room = listen(live.room_group(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.event_update(event=event, organiser=organiser, hosts=[newcomer])
    assert removed() == [ACCESS] and added() == [ACCESS]
    assert room() == []


def test_a_place_is_given_up_with_the_channel_layer_down(
    event_factory, user_factory, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    class DownLayer:
        async def group_send(self, group, message):
            raise ConnectionError("layer unreachable")

    person = user_factory()
    event = event_factory(attendees=[person])
    monkeypatch.setattr(layer, "get_channel_layer", DownLayer)
    with caplog.at_level(logging.WARNING, logger="salon.live"):
        with django_capture_on_commit_callbacks(execute=True):
            services.rsvp_cancel(event=event, user=person)
    assert RSVP.objects.get(event=event, user=person).status == RSVP.Status.CANCELLED
    assert "layer unreachable" in caplog.text
