"""Hostile websocket input: malformed frames are ignored, unknown paths are closed cleanly.

Neither may end in a 1011 close with a traceback (a frame) or a 500 at the
handshake (a path); after a bad frame the socket goes on working.
"""

from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from forum import services as forum
from notifications.models import Notification
from salon import services as salon
from salon.models import Event

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://localhost")
NOT_FOUND = 4404

# Past Python's recursion limit: json.loads raises RecursionError.
DEEP = "[" * 100_000 + "]" * 100_000

MALFORMED_FRAMES = {
    "not JSON": {"text": "not json"},
    "half an object": {"text": "{"},
    "empty text": {"text": ""},
    "a list as the type": {"text": '{"type": ["since"]}'},
    "an object as the type": {"text": '{"type": {"since": 1}}'},
    "a bare number": {"text": "42"},
    "deeply nested": {"text": DEEP},
    "deeply nested inside a message": {"text": '{"type": "since", "id": ' + DEEP + "}"},
    "an id past 64 bits": {"text": '{"type": "since", "id": ' + "9" * 30 + "}"},
    "a 5,000-digit id": {"text": '{"type": "since", "id": ' + "9" * 5000 + "}"},
    "binary": {"bytes": b"\x00\xff binary"},
}


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """The consumers' database thread keeps its connection; close it so the test database can go."""
    yield
    await sync_to_async(connections.close_all)()


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def open_socket(path: str, user=None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def send_frame(socket: WebsocketCommunicator, frame: dict) -> None:
    await socket.send_input({"type": "websocket.receive", **frame})


async def still_open(socket: WebsocketCommunicator) -> bool:
    """Nothing was sent back (no close frame) and the consumer did not crash."""
    return await socket.receive_nothing(timeout=0.05) and not socket.future.done()


@pytest.fixture
def asker(user_factory):
    return user_factory(name="Asker Wu")


@pytest.fixture
def question(question_factory, asker):
    return question_factory(author=asker)


@pytest.fixture
def live_event(moderator, doctor_factory, user_factory):
    """An online event on now, with one confirmed attendee."""
    now = timezone.now()
    attendee = user_factory(name="Attendee Sun")
    event = salon.event_create(
        organiser=moderator,
        title="Salon meeting about fatigue",
        description="Talk and questions.",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        location="Online",
        capacity=10,
        state=Event.State.PUBLISHED,
        hosts=[doctor_factory(name="Dr. Host")],
    )
    salon.rsvp_create(event=event, user=attendee)
    Event.objects.filter(pk=event.pk).update(
        starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=1)
    )
    return event, attendee


@pytest.mark.parametrize("name", MALFORMED_FRAMES)
async def test_notification_socket_ignores_a_malformed_frame_and_still_answers_since(
    name, asker, question, doctor
):
    await sync_to_async(forum.answer_create)(
        question=question, author=doctor, body="Rest well and drink enough water."
    )
    notification_id = await sync_to_async(lambda: Notification.objects.get(recipient=asker).pk)()
    socket = await open_socket("/ws/notifications/", asker)
    try:
        assert (await socket.receive_json_from(timeout=2))["type"] == "hello"
        await send_frame(socket, MALFORMED_FRAMES[name])
        assert await still_open(socket)
        await socket.send_json_to({"type": "since", "id": 0})
        caught = await socket.receive_json_from(timeout=2)
        assert (caught["type"], caught["id"]) == ("notification", notification_id)
    finally:
        await socket.disconnect()


async def test_marking_ids_no_row_can_have_marks_nothing(asker, question, doctor):
    await sync_to_async(forum.answer_create)(
        question=question, author=doctor, body="Rest well and drink enough water."
    )
    socket = await open_socket("/ws/notifications/", asker)
    try:
        await socket.receive_json_from(timeout=2)
        await socket.send_json_to({"type": "mark_read", "ids": [10**30, -1, 0, True, "1", None]})
        assert await socket.receive_json_from(timeout=2) == {"type": "read", "ids": [], "unread": 1}
    finally:
        await socket.disconnect()


async def test_question_socket_ignores_malformed_frames_and_still_relays(question, doctor):
    socket = await open_socket(f"/ws/questions/{question.pk}/")
    try:
        for name, frame in MALFORMED_FRAMES.items():
            await send_frame(socket, frame)
            assert await still_open(socket), name
        await socket.send_json_to({"type": "since", "id": 0})
        assert await still_open(socket)
        posted = await sync_to_async(forum.answer_create)(
            question=question, author=doctor, body="Rest, hydrate and keep a diary."
        )
        message = await socket.receive_json_from(timeout=2)
        assert (message["type"], message["id"]) == ("answer", posted.pk)
    finally:
        await socket.disconnect()


async def test_salon_socket_ignores_malformed_frames_and_still_relays(live_event):
    event, attendee = live_event
    socket = await open_socket(f"/ws/salon/{event.pk}/", attendee)
    try:
        for name, frame in MALFORMED_FRAMES.items():
            await send_frame(socket, frame)
            assert await still_open(socket), name
        await socket.send_json_to({"type": "since", "id": 0})
        assert await still_open(socket)
        asked = await sync_to_async(salon.live_question_create)(
            event=event, author=attendee, body="Does walking help with fatigue?"
        )
        message = await socket.receive_json_from(timeout=2)
        assert (message["type"], message["id"]) == ("question", asked.pk)
    finally:
        await socket.disconnect()


@pytest.mark.parametrize(
    "path",
    [
        "/ws/nope/",
        "/ws/questions/abc/",
        "/ws/questions/²/",
        "/ws/mdt/abc/",
        "/ws/mdt/٣/",
        "/ws/",
        "/nope/",
        "/ws/%00/",
    ],
)
async def test_unknown_socket_paths_are_closed_as_not_found(path, asker):
    for user in (None, asker):
        socket = await open_socket(path, user)
        try:
            assert await socket.receive_output(timeout=1) == {
                "type": "websocket.close",
                "code": NOT_FOUND,
            }
        finally:
            await socket.disconnect()


async def test_a_session_cookie_holding_nul_is_ignored():
    socket = WebsocketCommunicator(
        application,
        "/ws/notifications/",
        headers=[ORIGIN, (b"cookie", f'{settings.SESSION_COOKIE_NAME}="abcdefghij\\000"'.encode())],
    )
    try:
        assert (await socket.connect())[0]
        # Read as no session at all: a visitor's socket, closed with 4401.
        assert await socket.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}
    finally:
        await socket.disconnect()
