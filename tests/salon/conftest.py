"""Salon fixtures: events made through the services, people with places."""

import itertools
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from salon import services
from salon.models import Event

_counter = itertools.count(1)


@pytest.fixture
def organiser(moderator):
    return moderator


@pytest.fixture
def host(doctor_factory):
    return doctor_factory(name="Dr. Host")


def move_event(event: Event, *, starts_at, ends_at) -> Event:
    """Put an event at another time without telling anyone, as if it had always been there."""
    Event.objects.filter(pk=event.pk).update(starts_at=starts_at, ends_at=ends_at)
    event.refresh_from_db()
    return event


@pytest.fixture
def event_factory(organiser, host):
    """Events through the real service; ``when`` is "upcoming", "live" or "past"."""

    def make(*, when="upcoming", attendees=(), hosts=None, **kwargs):
        now = timezone.now()
        number = next(_counter)
        details = {
            "title": f"Salon meeting {number}",
            "description": "Talk and **questions**.",
            "starts_at": now + timedelta(days=3),
            "ends_at": now + timedelta(days=3, hours=2),
            "location": "Outpatient building, Room 302",
            "capacity": 10,
            "state": Event.State.PUBLISHED,
            "hosts": [host] if hosts is None else hosts,
        } | kwargs
        event = services.event_create(organiser=organiser, **details)
        for person in attendees:
            services.rsvp_create(event=event, user=person)
        if when == "live":
            event = move_event(
                event, starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=1)
            )
        elif when == "past":
            event = move_event(
                event, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2, hours=-2)
            )
        event.refresh_from_db()
        return event

    return make


@pytest.fixture
def listen():
    """Subscribe a test channel to a channel-layer group; returns a function reading what arrived."""
    layer = get_channel_layer()

    def subscribe(group: str):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, channel)

        def received(limit: int = 20) -> list[dict]:
            messages = []

            async def drain():
                import asyncio

                for _ in range(limit):
                    try:
                        messages.append(await asyncio.wait_for(layer.receive(channel), 0.2))
                    except TimeoutError:
                        return

            async_to_sync(drain)()
            return messages

        return received

    return subscribe
