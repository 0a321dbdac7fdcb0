"""Two server processes sharing Redis behave as one site (SPEC sections 2 and 6)."""

import asyncio
import concurrent.futures
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

import pytest
import redis
import websockets

from tests.e2e.conftest import _database_url, _drop_database, start_server, stop_server

pytestmark = pytest.mark.redis

SETUP = """
from django.test import Client
from accounts.services import account_create
from forum.models import Category
from forum.services import question_create
patient = account_create(email="two@example.com", password="two-process-pass-1", name="Two Wei")
doctor = account_create(email="doc@example.com", password="two-process-pass-1", name="Dr. Two", role="doctor", verified=True)
question = question_create(author=patient, title="Does this reach the other process?",
    body="A question asked to prove two servers share one channel layer.", category=Category.objects.first())
cookies = []
for user in (patient, doctor):
    client = Client()
    client.force_login(user)
    cookies.append(client.cookies["sessionid"].value)
print(question.pk, question.get_absolute_url(), *cookies)
"""


def http(url, *, cookie, data=None, csrf=None):
    headers = {"Cookie": cookie}
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return (
                response.status,
                response.headers.get_all("Set-Cookie") or [],
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, [], ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them: a 302 is the answer's success."""

    def redirect_request(self, *args, **kwargs):
        return None


def test_answer_posted_on_one_server_reaches_a_socket_on_the_other(tmp_path):
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/8"
    # A database of its own, emptied: cached sessions and rate-limit counters
    # from an earlier run must not meet this run's fresh user ids.
    redis.Redis.from_url(redis_url).flushdb()
    database_url = _database_url(tmp_path)
    env = {"REDIS_URL": redis_url}
    first, first_processes = start_server(tmp_path, env, database_url=database_url)
    second, second_processes = start_server(tmp_path, env, database_url=database_url)
    try:
        output = first.manage("shell", "--no-imports", "-c", SETUP).stdout.split()
        question_id, question_url, patient_session, doctor_session = output[-4:]

        # The doctor opens the question on the second server and answers there.
        status, set_cookies, page = http(
            second.url + question_url, cookie=f"sessionid={doctor_session}"
        )
        assert status == 200
        csrf = SimpleCookie("".join(c.split(";")[0] + ";" for c in set_cookies))["csrftoken"].value
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

        async def journey():
            ws_url = first.url.replace("http", "ws") + "/ws/notifications/"
            async with websockets.connect(
                ws_url,
                origin=first.url,
                additional_headers={"Cookie": f"sessionid={patient_session}"},
            ) as socket:
                hello = json.loads(await asyncio.wait_for(socket.recv(), 5))
                assert hello["type"] == "hello"
                status, _, _ = await asyncio.to_thread(
                    http,
                    f"{second.url}/questions/{question_id}/answer/",
                    cookie=f"sessionid={doctor_session}; csrftoken={csrf}",
                    data={
                        "csrfmiddlewaretoken": token,
                        "body": "Yes: both servers share Redis, so it arrives.",
                    },
                )
                assert status == 302
                return json.loads(await asyncio.wait_for(socket.recv(), 5))

        # Its own thread: Playwright may already run an event loop in this one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            message = pool.submit(asyncio.run, journey()).result(timeout=60)
        assert message["type"] == "notification" and message["verb"] == "answer"
        assert "Dr. Two" in message["text"] and message["unread"] == 1
    finally:
        stop_server(first_processes + second_processes)
        _drop_database(database_url)
