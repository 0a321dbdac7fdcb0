from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from forum import services as forum
from moderation.services import user_suspend
from salon import services
from salon.models import Event, LiveQuestion

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://localhost")


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """The consumers' database thread keeps its connection; close it so the test database can go."""
    yield
    await sync_to_async(connections.close_all)()


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def communicator(event_id: int, cookie: bytes | None = None, origin=ORIGIN):
    headers = [origin]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/salon/{event_id}/", headers=headers)


@pytest.fixture
def room(event_factory, user_factory, host):
    """A live event with two confirmed attendees, one person waiting, and their cookies."""
    asker, voter, waiting = user_factory(), user_factory(), user_factory()
    event = event_factory(when="live", capacity=2, attendees=[asker, voter, waiting])
    return {
        "event": event,
        "asker": asker,
        "voter": voter,
        "host": host,
        "cookies": {
            name: session_cookie(person)
            for name, person in {
                "asker": asker,
                "voter": voter,
                "waiting": waiting,
                "host": host,
                "stranger": user_factory(),
            }.items()
        },
    }


async def test_anonymous_connections_are_closed_with_4401(room):
    socket = communicator(room["event"].pk)
    # Accepted first, so the browser reads the code rather than a failed handshake.
    assert (await socket.connect())[0]
    assert (await socket.receive_output(timeout=1)) == {"type": "websocket.close", "code": 4401}
    await socket.disconnect()


@pytest.mark.parametrize("person", ["stranger", "waiting"])
async def test_people_without_a_confirmed_place_are_refused(room, person):
    socket = communicator(room["event"].pk, room["cookies"][person])
    await socket.connect()
    assert (await socket.receive_output(timeout=1)) == {"type": "websocket.close", "code": 4403}
    await socket.disconnect()


async def test_unknown_and_draft_events_are_not_found(room, event_factory):
    draft = await database_sync_to_async(event_factory)(state=Event.State.DRAFT)
    for event_id in (424242, draft.pk):
        socket = communicator(event_id, room["cookies"]["host"])
        await socket.connect()
        assert (await socket.receive_output(timeout=1)) == {"type": "websocket.close", "code": 4404}
        await socket.disconnect()


async def test_foreign_origins_are_refused(room):
    socket = communicator(
        room["event"].pk, room["cookies"]["asker"], origin=(b"origin", b"https://evil.example")
    )
    connected, _ = await socket.connect()
    assert not connected
    await socket.disconnect()


async def test_attendees_see_each_others_questions_votes_and_answers_live(room):
    event = room["event"]
    watcher = communicator(event.pk, room["cookies"]["voter"])
    host_socket = communicator(event.pk, room["cookies"]["host"])
    try:
        assert (await watcher.connect())[0]
        assert (await host_socket.connect())[0]
        await watcher.receive_nothing(timeout=0.1)

        question = await database_sync_to_async(services.live_question_create)(
            event=event, author=room["asker"], body="Does **walking** help with fatigue?"
        )
        message = await watcher.receive_json_from(timeout=2)
        assert message["type"] == "question" and message["id"] == question.pk
        assert message["votes"] == 0
        assert "<strong>walking</strong>" in message["html"]
        assert "Mark answered" not in message["html"]
        host_message = await host_socket.receive_json_from(timeout=2)
        assert "Mark answered" in host_message["html"]

        await database_sync_to_async(services.live_question_vote)(
            event=event, question=question, user=room["voter"]
        )
        assert await watcher.receive_json_from(timeout=2) == {
            "type": "vote",
            "id": question.pk,
            "votes": 1,
            "votes_label": "1 vote",
        }
        await host_socket.receive_json_from(timeout=2)

        fresh = await LiveQuestion.objects.aget(pk=question.pk)
        await database_sync_to_async(services.live_question_mark_answered)(
            event=event, question=fresh, user=room["host"], answer="Yes, gentle daily walks."
        )
        message = await watcher.receive_json_from(timeout=2)
        assert message["type"] == "answered" and "gentle daily walks" in message["html"]
        assert await watcher.receive_nothing(timeout=0.1)
    finally:
        await watcher.disconnect()
        await host_socket.disconnect()


async def test_the_socket_only_listens(room):
    socket = communicator(room["event"].pk, room["cookies"]["asker"])
    try:
        assert (await socket.connect())[0]
        await socket.send_json_to({"type": "question", "body": "Sent over the socket?"})
        assert await socket.receive_nothing(timeout=0.2)
        assert not await LiveQuestion.objects.aexists()
    finally:
        await socket.disconnect()


async def test_a_room_hears_nothing_of_another_room(room, event_factory):
    other = await database_sync_to_async(event_factory)(when="live", attendees=[room["asker"]])
    socket = communicator(room["event"].pk, room["cookies"]["voter"])
    try:
        assert (await socket.connect())[0]
        await database_sync_to_async(services.live_question_create)(
            event=other, author=room["asker"], body="A question for the other room"
        )
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


# When what let someone in ends, their socket closes, and opening it again is refused.


def log_out(cookie: bytes) -> None:
    name, value = cookie.decode().split("=", 1)
    client = Client()
    client.cookies[name] = value
    client.post("/accounts/logout/")


async def closed_with(socket) -> int:
    output = await socket.receive_output(timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"]


async def reconnect_refused_with(event_id: int, cookie: bytes) -> int:
    socket = communicator(event_id, cookie)
    try:
        assert (await socket.connect())[0]
        return await closed_with(socket)
    finally:
        await socket.disconnect()


async def open_room(event_id: int, cookie: bytes):
    socket = communicator(event_id, cookie)
    assert (await socket.connect())[0]
    assert await socket.receive_nothing(timeout=0.1)
    return socket


async def test_logout_closes_the_room_socket_and_a_reconnect_is_refused(room):
    event, cookie = room["event"], room["cookies"]["asker"]
    socket = await open_room(event.pk, cookie)
    try:
        await sync_to_async(log_out)(cookie)
        assert await closed_with(socket) == 4401
    finally:
        await socket.disconnect()
    assert await reconnect_refused_with(event.pk, cookie) == 4401


async def test_cancelling_the_rsvp_closes_only_that_persons_room_socket(room):
    event = room["event"]
    leaving = await open_room(event.pk, room["cookies"]["voter"])
    staying = await open_room(event.pk, room["cookies"]["asker"])
    try:
        await database_sync_to_async(services.rsvp_cancel)(event=event, user=room["voter"])
        assert await closed_with(leaving) == 4403
        assert await staying.receive_nothing(timeout=0.3)
        await database_sync_to_async(services.live_question_create)(
            event=event, author=room["asker"], body="Is the room still live for me?"
        )
        assert (await staying.receive_json_from(timeout=2))["type"] == "question"
    finally:
        await leaving.disconnect()
        await staying.disconnect()
    assert await reconnect_refused_with(event.pk, room["cookies"]["voter"]) == 4403


async def test_suspension_closes_the_room_socket_and_a_reconnect_is_refused(room, organiser):
    event, cookie = room["event"], room["cookies"]["asker"]
    socket = await open_room(event.pk, cookie)
    try:
        await database_sync_to_async(user_suspend)(
            user=room["asker"],
            moderator=organiser,
            until=timezone.now() + timedelta(days=3),
            reason="Abusive messages to another member",
        )
        assert await closed_with(socket) == 4401
    finally:
        await socket.disconnect()
    # Still signed in, but a suspended member is not let back into the room.
    assert await reconnect_refused_with(event.pk, cookie) == 4403


async def test_cancelling_the_event_closes_every_room_socket(room, organiser):
    event = room["event"]
    sockets = [await open_room(event.pk, room["cookies"][person]) for person in ("asker", "host")]
    try:
        await database_sync_to_async(services.event_cancel)(event=event, organiser=organiser)
        assert [await closed_with(socket) for socket in sockets] == [4404, 4404]
    finally:
        for socket in sockets:
            await socket.disconnect()
    assert await reconnect_refused_with(event.pk, room["cookies"]["asker"]) == 4404


async def test_a_host_taken_off_the_event_leaves_the_room(room, organiser, doctor_factory):
    event = room["event"]
    other_host = await database_sync_to_async(doctor_factory)(name="Dr. Other")
    socket = await open_room(event.pk, room["cookies"]["host"])
    staying = await open_room(event.pk, room["cookies"]["asker"])
    try:
        await database_sync_to_async(services.event_update)(
            event=event, organiser=organiser, hosts=[other_host]
        )
        assert await closed_with(socket) == 4403
        assert await staying.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()
        await staying.disconnect()


async def test_a_changed_event_keeps_its_room_open(room, organiser):
    event = room["event"]
    socket = await open_room(event.pk, room["cookies"]["asker"])
    try:
        await database_sync_to_async(services.event_update)(
            event=event, organiser=organiser, location="Outpatient building, Room 305"
        )
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_the_room_socket_lets_its_persons_notifications_pass(room, question_factory, doctor):
    event = room["event"]
    question = await database_sync_to_async(question_factory)(author=room["asker"])
    socket = await open_room(event.pk, room["cookies"]["asker"])
    try:
        # The asker's user group hears of the answer; the room socket stays quiet and open.
        await database_sync_to_async(forum.answer_create)(
            question=question, author=doctor, body="Gentle walks help many people."
        )
        assert await socket.receive_nothing(timeout=0.3)
        await database_sync_to_async(services.live_question_create)(
            event=event, author=room["voter"], body="Does walking help with fatigue?"
        )
        assert (await socket.receive_json_from(timeout=2))["type"] == "question"
    finally:
        await socket.disconnect()
