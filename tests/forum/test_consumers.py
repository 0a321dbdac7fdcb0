"""The question socket: a signed-in reader's socket ends with their session."""

from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from forum import live, services
from forum.models import PostState, Question
from moderation.services import user_suspend
from notifications import payloads
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://localhost")


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """The consumers' database thread keeps its connection; close it so the test database can go."""
    yield
    await sync_to_async(connections.close_all)()


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cookie_of(client: Client) -> bytes:
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def communicator(question_id: int, cookie: bytes | None = None):
    headers = [ORIGIN, (b"cookie", cookie)] if cookie else [ORIGIN]
    return WebsocketCommunicator(application, f"/ws/questions/{question_id}/", headers=headers)


async def open_socket(question_id: int, cookie: bytes | None = None):
    socket = communicator(question_id, cookie)
    assert (await socket.connect())[0]
    assert await socket.receive_nothing(timeout=0.1)
    return socket


async def closed_with(socket) -> int:
    output = await socket.receive_output(timeout=2)
    assert output["type"] == "websocket.close"
    return output["code"]


async def reconnect_refused_with(question_id: int, cookie: bytes) -> int:
    socket = communicator(question_id, cookie)
    try:
        assert (await socket.connect())[0]
        return await closed_with(socket)
    finally:
        await socket.disconnect()


@pytest.fixture
def asker(user_factory):
    return user_factory(name="Asker Wu")


@pytest.fixture
def held_question(question_factory, asker):
    """A question waiting for a moderator: only its author may read it."""
    question = question_factory(author=asker)
    Question.objects.filter(pk=question.pk).update(state=PostState.PENDING)
    return question


async def test_logout_closes_a_readers_socket_and_a_reconnect_is_refused(held_question, asker):
    client = await sync_to_async(signed_in_client)(asker)
    cookie = cookie_of(client)
    socket = await open_socket(held_question.pk, cookie)
    try:
        await sync_to_async(client.post)("/accounts/logout/")
        assert await closed_with(socket) == 4401
    finally:
        await socket.disconnect()
    # Signed out, the asker is a visitor, and visitors may not read a held question.
    assert await reconnect_refused_with(held_question.pk, cookie) == 4404


async def test_a_password_change_closes_the_readers_other_sockets(held_question, asker):
    reading = await sync_to_async(signed_in_client)(asker)
    changing = await sync_to_async(signed_in_client)(asker)
    socket = await open_socket(held_question.pk, cookie_of(reading))
    try:
        response = await sync_to_async(changing.post)(
            "/accounts/password/change/",
            {
                "oldpassword": PASSWORD,
                "password1": "another-sturdy-passphrase",
                "password2": "another-sturdy-passphrase",
            },
        )
        assert response.status_code == 302
        assert await closed_with(socket) == 4401
    finally:
        await socket.disconnect()
    assert await reconnect_refused_with(held_question.pk, cookie_of(reading)) == 4404


async def test_suspension_closes_a_readers_socket(question_factory, asker, moderator):
    question = await sync_to_async(question_factory)(author=asker)
    client = await sync_to_async(signed_in_client)(asker)
    socket = await open_socket(question.pk, cookie_of(client))
    try:
        await sync_to_async(user_suspend)(
            user=asker,
            moderator=moderator,
            until=timezone.now() + timedelta(days=3),
            reason="Repeated spam",
        )
        assert await closed_with(socket) == 4401
    finally:
        await socket.disconnect()


async def test_a_visitors_socket_outlives_other_peoples_sessions(question_factory, asker):
    question = await sync_to_async(question_factory)(author=asker)
    client = await sync_to_async(signed_in_client)(asker)
    visitor = await open_socket(question.pk)
    try:
        await sync_to_async(client.post)("/accounts/logout/")
        assert await visitor.receive_nothing(timeout=0.3)
    finally:
        await visitor.disconnect()


async def test_a_readers_socket_lets_their_notifications_pass(question_factory, asker, doctor):
    question = await sync_to_async(question_factory)(author=asker)
    client = await sync_to_async(signed_in_client)(asker)
    socket = await open_socket(question.pk, cookie_of(client))
    try:
        # The asker is notified of the answer too, on their user group; this socket shows the answer once.
        posted = await sync_to_async(services.answer_create)(
            question=question, author=doctor, body="Rest, hydrate and keep a diary."
        )
        message = await socket.receive_json_from(timeout=2)
        assert (message["type"], message["id"]) == ("answer", posted.pk)
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_nothing_follows_the_close_of_a_revoked_socket(question_factory, asker):
    question = await sync_to_async(question_factory)(author=asker)
    client = await sync_to_async(signed_in_client)(asker)
    socket = await open_socket(question.pk, cookie_of(client))
    try:
        # An answer already on its way when the session ends must not follow the close.
        layer = get_channel_layer()
        await layer.group_send(payloads.user_group(asker.pk), {"type": payloads.REVOKED})
        await layer.group_send(
            live.question_group(question.pk),
            {"type": live.POST_EVENT, "payloads": {"en": {"type": "answer", "id": 1}}},
        )
        assert await closed_with(socket) == 4401
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()
