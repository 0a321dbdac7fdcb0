"""Notifications on a bad day: Redis stopped or hanging while a doctor answers.

The answer and its notification are stored whatever Redis does; the asker's
browser gets the notification exactly once, by catch-up, when it reconnects
after Redis returns. Each test runs a redis-server of its own and stops it by
its PID (tests/core/test_faults.py).
"""

import asyncio
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from config.asgi import application
from forum import services as forum
from forum.models import Answer
from notifications import fanout, services
from notifications.models import Notification, Verb
from tests.core.test_faults import (  # noqa: F401 - redis_server is a fixture
    ORIGIN,
    needs_redis_server,
    redis_server,
    use_redis,
)

pytestmark = [
    needs_redis_server,
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
]


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies['sessionid'].value}".encode()


def _answer_over_http(doctor, question) -> tuple[int, float]:
    client = Client()
    client.force_login(doctor)
    started = time.monotonic()
    response = client.post(
        f"/questions/{question.pk}/answer/",
        {"body": "Yes: keep walking a little every day, and rest when you need to."},
    )
    return response.status_code, time.monotonic() - started


async def _open(cookie: bytes) -> tuple[WebsocketCommunicator, dict]:
    socket = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await socket.connect(timeout=3)
    assert connected
    hello = await socket.receive_json_from(timeout=3)
    assert hello["type"] == "hello"
    return socket, hello


@pytest.fixture
def redis_site(settings, redis_server):  # noqa: F811 - the fixture imported above
    use_redis(settings, redis_server)
    return redis_server


async def test_an_answer_while_redis_is_down_reaches_the_asker_once_it_returns(
    redis_site, question_factory, patient, doctor
):
    question = await sync_to_async(question_factory)(author=patient)
    cookie = await sync_to_async(_session_cookie)(patient)
    socket, hello = await _open(cookie)
    await socket.disconnect()

    await asyncio.to_thread(redis_site.stop)
    status, took = await sync_to_async(_answer_over_http)(doctor, question)

    assert status == 302 and took < 2  # stored and answered, not held up by the layer
    assert await Answer.objects.filter(question=question).acount() == 1
    stored = await Notification.objects.aget(recipient=patient, verb=Verb.ANSWER)

    await asyncio.to_thread(redis_site.start)
    socket, hello = await _open(cookie)
    try:
        assert hello["unread"] == 1 and hello["last_id"] == stored.pk
        await socket.send_json_to({"type": "since", "id": 0})
        message = await socket.receive_json_from(timeout=3)
        assert message["type"] == "notification" and message["id"] == stored.pk
        assert message["verb"] == Verb.ANSWER
        assert await socket.receive_nothing(timeout=0.5)  # exactly once
    finally:
        await socket.disconnect()


async def test_an_answer_while_redis_hangs_is_not_held_up_by_the_push(
    redis_site, question_factory, patient, doctor
):
    question = await sync_to_async(question_factory)(author=patient)
    cookie = await sync_to_async(_session_cookie)(patient)
    socket, _hello = await _open(cookie)
    await socket.disconnect()

    redis_site.pause()
    try:
        status, took = await sync_to_async(_answer_over_http)(doctor, question)
    finally:
        redis_site.resume()

    assert status == 302
    assert took < 6, f"the answer took {took:.1f} s"
    assert await Notification.objects.filter(recipient=patient, verb=Verb.ANSWER).aexists()


async def test_a_popular_questions_followers_still_hear_after_redis_restarts(
    redis_site, monkeypatch, question_factory, user_factory, patient, doctor
):
    # A restarted Redis keeps no groups: the fan-out listener must join again.
    monkeypatch.setattr(fanout, "RENEW_EVERY", 0.3)
    monkeypatch.setattr(fanout, "RETRY_AFTER", 0.2)
    question = await sync_to_async(question_factory)(author=patient)
    for _ in range(services.DIRECT_PUSH_MAX + 2):
        follower = await sync_to_async(user_factory)()
        await sync_to_async(forum.question_follow)(question=question, user=follower)
    cookie = await sync_to_async(_session_cookie)(follower)
    socket, _hello = await _open(cookie)

    await asyncio.to_thread(redis_site.stop)
    await asyncio.to_thread(redis_site.start)
    await asyncio.sleep(1)  # the listener's renewal
    # The socket itself may have failed with its connection (daphne closes it
    # with 1011); a browser reconnects.
    try:
        alive = await socket.receive_nothing(timeout=0.1)
    except redis.exceptions.ConnectionError:
        alive = False
    if not alive:
        socket, _hello = await _open(cookie)

    try:
        status, _took = await sync_to_async(_answer_over_http)(doctor, question)
        assert status == 302
        message = await socket.receive_json_from(timeout=5)
        assert message["type"] == "notification" and message["verb"] == Verb.ANSWER
        assert await socket.receive_nothing(timeout=0.5)  # exactly once
    finally:
        await socket.disconnect()


async def test_the_fan_out_listener_joins_again_when_redis_forgets_its_groups(
    redis_site, monkeypatch, question_factory, user_factory, patient, doctor
):
    # Redis restarted between two reads: the connections come back, the groups do not.
    monkeypatch.setattr(fanout, "RENEW_EVERY", 0.3)
    question = await sync_to_async(question_factory)(author=patient)
    for _ in range(services.DIRECT_PUSH_MAX + 2):
        follower = await sync_to_async(user_factory)()
        await sync_to_async(forum.question_follow)(question=question, user=follower)
    socket, _hello = await _open(await sync_to_async(_session_cookie)(follower))
    try:
        await asyncio.to_thread(redis.Redis.from_url(redis_site.url).flushall)
        await asyncio.sleep(1)  # the listener's renewal

        status, _took = await sync_to_async(_answer_over_http)(doctor, question)
        assert status == 302
        message = await socket.receive_json_from(timeout=5)
        assert message["type"] == "notification" and message["verb"] == Verb.ANSWER
    finally:
        await socket.disconnect()
