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
from moderation.services import user_suspend
from notifications import fanout, services
from notifications.models import Notification

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://localhost")


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    """The consumers' database thread keeps its connection; close it so the test database can go."""
    yield
    await sync_to_async(connections.close_all)()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(path="/ws/notifications/", user=None, origin=ORIGIN, language=None):
    headers = [origin] if origin else []
    cookies = []
    if user is not None:
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={await sync_to_async(session_cookie)(user)}"
        )
    if language:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@sync_to_async
def answer(question, doctor, body="Rest, hydrate and keep a diary."):
    return forum.answer_create(question=question, author=doctor, body=body)


@pytest.fixture
def asker(user_factory):
    return user_factory(name="Asker Wu")


@pytest.fixture
def question(question_factory, asker):
    return question_factory(author=asker)


async def test_anonymous_connections_are_closed_with_4401():
    communicator, connected = await connect()
    assert connected
    assert await communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_foreign_origins_are_refused(asker):
    communicator, connected = await connect(user=asker, origin=(b"origin", b"https://evil.example"))
    assert not connected
    await communicator.disconnect()


async def test_hello_then_live_notification(asker, question, doctor):
    communicator, connected = await connect(user=asker)
    assert connected
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "hello",
        "unread": 0,
        "last_id": 0,
    }
    posted = await answer(question, doctor)
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "notification" and message["unread"] == 1
    assert message["url"] == posted.get_absolute_url()
    assert message["text"] == f"{doctor.name} answered “{question.title}”."
    await communicator.disconnect()


async def test_text_comes_in_the_readers_language(asker, question, doctor):
    communicator, _ = await connect(user=asker, language="zh-hans")
    await communicator.receive_json_from(timeout=2)
    await answer(question, doctor)
    message = await communicator.receive_json_from(timeout=2)
    assert "回答" in message["text"] and question.title in message["text"]
    await communicator.disconnect()


async def test_since_catches_up_on_everything_missed(asker, question, doctor, question_factory):
    first = await answer(question, doctor)
    await answer(question, doctor, body="A second thought: eat small meals.")
    await answer(question, doctor, body="And a third: ask about anti-nausea drugs.")
    ids = await sync_to_async(
        lambda: list(Notification.objects.order_by("id").values_list("id", flat=True))
    )()
    communicator, _ = await connect(user=asker)
    hello = await communicator.receive_json_from(timeout=2)
    assert hello == {"type": "hello", "unread": 3, "last_id": ids[-1]}
    await communicator.send_json_to({"type": "since", "id": ids[0]})
    caught = [await communicator.receive_json_from(timeout=2) for _ in range(2)]
    assert [m["id"] for m in caught] == ids[1:]
    assert await communicator.receive_nothing(timeout=0.2)
    assert first.pk
    await communicator.disconnect()


async def test_mark_read_and_unknown_messages(asker, question, doctor):
    await answer(question, doctor)
    own = await sync_to_async(lambda: Notification.objects.get(recipient=asker).pk)()
    communicator, _ = await connect(user=asker)
    await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to({"type": "nonsense"})
    await communicator.send_json_to({"type": "mark_read", "ids": [own, 999999]})
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "read",
        "ids": [own],
        "unread": 0,
    }
    await communicator.disconnect()


async def test_a_user_never_receives_another_users_notification(
    asker, question, doctor, user_factory, question_factory
):
    stranger = await sync_to_async(user_factory)(name="Stranger")
    communicator, _ = await connect(user=stranger)
    await communicator.receive_json_from(timeout=2)
    await answer(question, doctor)
    assert await communicator.receive_nothing(timeout=0.3)
    # Neither by catch-up nor by marking someone else's rows.
    theirs = await sync_to_async(lambda: Notification.objects.get(recipient=asker).pk)()
    await communicator.send_json_to({"type": "since", "id": 0})
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.send_json_to({"type": "mark_read", "ids": [theirs]})
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "read",
        "ids": [],
        "unread": 0,
    }
    assert await sync_to_async(lambda: Notification.objects.get(pk=theirs).read_at)() is None
    await communicator.disconnect()


async def test_logout_closes_the_sessions_sockets(asker):
    cookie = await sync_to_async(session_cookie)(asker)
    communicator = WebsocketCommunicator(
        application,
        "/ws/notifications/",
        headers=[ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())],
    )
    await communicator.connect()
    await communicator.receive_json_from(timeout=2)

    def log_out():
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        client.post("/accounts/logout/")

    await sync_to_async(log_out)()
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_password_change_closes_every_socket_of_the_user(asker):
    communicator, _ = await connect(user=asker)
    await communicator.receive_json_from(timeout=2)
    await sync_to_async(services.sessions_revoke)(user_id=asker.pk)
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_question_readers_see_new_answers_and_replies(question, doctor, asker):
    communicator, connected = await connect(f"/ws/questions/{question.pk}/")
    assert connected
    posted = await answer(question, doctor)
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "answer" and message["id"] == posted.pk
    assert message["author"] == doctor.name and f'id="answer-{posted.pk}"' in message["html"]
    assert "Verified physician" in message["html"]
    reply = await sync_to_async(forum.reply_create)(
        question=question, author=asker, body="Thank you!", answer=posted
    )
    message = await communicator.receive_json_from(timeout=2)
    assert (message["type"], message["id"], message["answer"]) == ("reply", reply.pk, posted.pk)
    await communicator.disconnect()


async def test_anonymous_askers_stay_anonymous_on_the_question_socket(
    question_factory, asker, doctor
):
    question = await sync_to_async(question_factory)(author=asker, is_anonymous=True, answers=1)
    communicator, _ = await connect(f"/ws/questions/{question.pk}/")
    reply = await sync_to_async(
        lambda: forum.reply_create(
            question=question,
            author=asker,
            body="Thanks, I will try",
            answer=question.answers.get(),
        )
    )()
    message = await communicator.receive_json_from(timeout=2)
    assert message["id"] == reply.pk and message["author"] == "Anonymous patient"
    assert asker.name not in message["html"]
    await communicator.disconnect()


async def test_unreadable_questions_refuse_the_socket(question_factory, asker):
    from forum.models import PostState, Question

    question = await sync_to_async(question_factory)(author=asker)
    await sync_to_async(Question.objects.filter(pk=question.pk).update)(state=PostState.PENDING)
    communicator, connected = await connect(f"/ws/questions/{question.pk}/")
    assert await communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()
    communicator, _ = await connect("/ws/questions/999999/")
    assert await communicator.receive_output(timeout=1) == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


async def test_a_reconnect_after_logout_is_refused(asker):
    cookie = await sync_to_async(session_cookie)(asker)
    headers = [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    await communicator.connect()
    await communicator.receive_json_from(timeout=2)

    def log_out():
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        client.post("/accounts/logout/")

    await sync_to_async(log_out)()
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
    again = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    assert (await again.connect())[0]
    assert await again.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await again.disconnect()


async def test_suspension_closes_the_bell_which_may_open_again(asker, moderator):
    communicator, _ = await connect(user=asker)
    await communicator.receive_json_from(timeout=2)
    await sync_to_async(user_suspend)(
        user=asker, moderator=moderator, until=timezone.now() + timedelta(days=3), reason="Spam"
    )
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
    # A suspended member still reads, and still hears of moderators' decisions.
    communicator, connected = await connect(user=asker)
    assert connected
    assert (await communicator.receive_json_from(timeout=2))["type"] == "hello"
    await communicator.disconnect()


async def test_a_popular_questions_followers_hear_by_fan_out_each_on_every_tab(
    asker, question, doctor, user_factory
):
    followers = [await sync_to_async(user_factory)() for _ in range(services.DIRECT_PUSH_MAX + 4)]
    for follower in followers:
        await sync_to_async(forum.question_follow)(question=question, user=follower)
    stranger = await sync_to_async(user_factory)()
    tabs = [
        (await connect(user=followers[0]))[0],
        (await connect(user=followers[0]))[0],
        (await connect(user=followers[-1], language="zh-hans"))[0],
    ]
    outsider, _ = await connect(user=stranger)
    for socket in [*tabs, outsider]:
        assert (await socket.receive_json_from(timeout=2))["type"] == "hello"

    posted = await answer(question, doctor)

    for socket in tabs:
        message = await socket.receive_json_from(timeout=3)
        assert message["type"] == "notification" and message["url"] == posted.get_absolute_url()
        assert await socket.receive_nothing(timeout=0.3)  # once per socket
    assert "回答" in message["text"]  # the last tab reads Chinese
    assert await outsider.receive_nothing(timeout=0.3)
    for socket in [*tabs, outsider]:
        await socket.disconnect()
    # The last bell socket closed: the process stops listening.
    assert fanout.listener().task is None and fanout.listener().sockets == {}
