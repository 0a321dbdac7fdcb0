import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application
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
