"""A bad day with real services: Redis stopped, hanging or restarted; the database gone.

Each Redis test runs a redis-server of its own on a spare port and stops it
by its PID, as a crash or an operator would; nothing is mocked. They need
only the redis-server binary, not REDIS_URL, so they run on the embedded
stack too (hence no ``redis`` mark, which asks for REDIS_URL).
"""

import asyncio
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.asgi import application
from forum.models import Answer, PostState, Question, Reply
from moderation.models import Case
from salon.models import RSVP, Event
from tests.conftest import PASSWORD

REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)
# The pause after a failure, shortened so that tests need not wait 2 s.
RETRY_AFTER = 0.2
MEMBER_NAME = re.compile(r'data-testid="header-user-name">([^<]+)<')
ORIGIN = (b"origin", b"http://localhost")


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, stopped, paused and started again by its PID."""

    def __init__(self, directory, *, append_only: bool = False):
        self.port = spare_port()
        self.directory = directory
        self.append_only = append_only
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.append_only else "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()  # also waits for the append-only file to load
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Leave it listening but answering nothing, as a Redis that hangs."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def use_redis(settings, server: RedisServer, **options) -> None:
    """Point the site's cache and channel layer at ``server``, configured as in production."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "faults",
            "OPTIONS": {**settings.REDIS_CACHE_OPTIONS, "retry_after": RETRY_AFTER, **options},
        },
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": server.url, **settings.REDIS_LAYER_HOST}]},
        }
    }


@pytest.fixture
def site_on_redis(settings, redis_server):
    use_redis(settings, redis_server)
    return redis_server


def signed_in_as(page: str) -> str | None:
    match = MEMBER_NAME.search(page)
    return match.group(1) if match else None


def csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def wait_out_the_pause() -> None:
    time.sleep(RETRY_AFTER * 1.5)


# Redis stopped: pages, sign-in and every write go on.


@needs_redis_server
@pytest.mark.django_db
def test_a_member_keeps_reading_pages_when_redis_stops(
    client, site_on_redis, patient, question_factory
):
    question = question_factory(title="Mouth sores during FOLFOX, what helps?")
    client.force_login(patient)
    assert signed_in_as(client.get("/").content.decode()) == patient.name
    site_on_redis.stop()
    for url in ("/", "/questions/", question.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, url
        assert signed_in_as(response.content.decode()) == patient.name, url


@needs_redis_server
@pytest.mark.django_db
@pytest.mark.usefixtures("kept")
@pytest.mark.parametrize("who", ["doctor", "moderator"])
def test_physicians_and_moderators_keep_their_own_panels_when_redis_stops(
    client, site_on_redis, doctor, moderator, who, question_factory
):
    question = question_factory(title="Mouth sores during FOLFOX, what helps?")
    person = doctor if who == "doctor" else moderator
    client.force_login(person)
    urls = ("/", question.get_absolute_url())
    for url in urls:  # their shared or kept pages filled while Redis is up
        assert client.get(url).status_code == 200, url
    site_on_redis.stop()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert signed_in_as(page) == person.name, url
        assert "Mouth sores during FOLFOX, what helps?" in page, url
    home, question_page = (client.get(url).content.decode() for url in urls)
    # A physician still gets what waits for them and the duty panel; a moderator, the queue's link.
    if who == "doctor":
        assert 'id="waiting-title"' in home and "duty-panel" in question_page
    else:
        assert "/moderation/" in home and "/moderation/" in question_page


@needs_redis_server
@pytest.mark.django_db
def test_a_session_ended_in_another_process_during_the_outage_ends_here_too(
    client, site_on_redis, patient
):
    site_on_redis.stop()
    client.force_login(patient)
    assert signed_in_as(client.get("/").content.decode()) == patient.name
    # Another process signs the member out: the row goes, and Redis cannot
    # be told. This process must not go on from a copy in its own memory.
    Session.objects.filter(session_key=client.session.session_key).delete()
    assert signed_in_as(client.get("/").content.decode()) is None


@needs_redis_server
@pytest.mark.django_db
def test_signing_in_works_with_redis_stopped(site_on_redis, patient):
    site_on_redis.stop()
    client = Client(enforce_csrf_checks=True)
    login = reverse("account_login")
    token = csrf_token(client.get(login).content.decode())
    response = client.post(
        login, {"login": patient.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert signed_in_as(client.get("/").content.decode()) == patient.name


@needs_redis_server
@pytest.mark.django_db
def test_questions_answers_and_replies_are_stored_with_redis_stopped(
    client, site_on_redis, patient, doctor, category
):
    site_on_redis.stop()
    client.force_login(patient)
    asked = client.post(
        reverse("forum:question-ask"),
        {
            "title": "Numb fingers after oxaliplatin",
            "body": "My fingers have felt numb since the third cycle. Will it pass?",
            "category": category.pk,
            "asker": "self",
            "tags": "",
        },
    )
    question = Question.objects.get()
    assert asked.status_code == 302 and asked["Location"] == question.get_absolute_url()

    client.force_login(doctor)
    answered = client.post(
        reverse("forum:answer-create", args=[question.pk]),
        {"body": "Numbness often eases over months; tell your oncologist before the next cycle."},
    )
    answer = Answer.objects.get()
    assert answered.status_code == 302 and answered["Location"].endswith(f"#answer-{answer.pk}")
    assert answer.author == doctor and answer.question == question

    client.force_login(patient)
    replied = client.post(
        reverse("forum:reply-create", args=[question.pk]),
        {"body": "Thank you, doctor.", "answer": answer.pk},
    )
    assert replied.status_code == 302 and Reply.objects.get().answer == answer
    page = client.get(question.get_absolute_url()).content.decode()
    assert "Numbness often eases over months" in page and "Thank you, doctor." in page


@needs_redis_server
@pytest.mark.django_db
def test_rsvps_and_moderation_decisions_are_stored_with_redis_stopped(
    client, site_on_redis, patient, moderator, doctor, category
):
    from forum import services as forum
    from salon import services as salon

    now = timezone.now()
    event = salon.event_create(
        organiser=moderator,
        title="Living well after surgery",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        capacity=10,
        location="Outpatient building, Room 302",
        state=Event.State.PUBLISHED,
        hosts=[doctor],
    )
    held = forum.question_create(
        author=patient,
        title="A question about my plan",
        body="Please call me on 13812345678 to discuss my mother's chemotherapy plan.",
        category=category,
    )
    site_on_redis.stop()

    client.force_login(patient)
    response = client.post(reverse("salon:event-rsvp", args=[event.pk]))
    assert response.status_code == 302
    assert RSVP.objects.get(user=patient, event=event).status == RSVP.Status.CONFIRMED

    client.force_login(moderator)
    case = Case.objects.get()
    response = client.post(
        reverse("moderation:decide", args=[case.pk]),
        {"action": "reject", "reason": "Personal data", "version": held.updated_at.isoformat()},
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == PostState.REJECTED


# Rate limits still limit, each process counting on its own.


@needs_redis_server
@pytest.mark.django_db
def test_rate_limits_still_refuse_past_the_limit_with_redis_stopped(
    client, settings, site_on_redis, patient, question_factory
):
    settings.SHUKANG_RATE_LIMITS = {**settings.SHUKANG_RATE_LIMITS, "reply": (2, 600)}
    question = question_factory()
    client.force_login(patient)
    site_on_redis.stop()
    url = reverse("forum:reply-create", args=[question.pk])
    responses = [client.post(url, {"body": f"Same here in week {week}"}) for week in (1, 2, 3)]
    assert [response.status_code for response in responses] == [302, 302, 429]
    assert "You have done this 2 times recently" in responses[-1].content.decode()
    assert Reply.objects.count() == 2


@needs_redis_server
@pytest.mark.django_db
def test_failed_sign_ins_are_still_limited_with_redis_stopped(settings, site_on_redis, patient):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}
    site_on_redis.stop()
    client = Client()
    login = reverse("account_login")
    for _ in range(3):
        client.post(login, {"login": patient.email, "password": "not-the-password"})
    response = client.post(login, {"login": patient.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


# When Redis returns: nothing stale, nothing to restart.


@needs_redis_server
@pytest.mark.django_db
def test_a_session_ended_while_redis_was_down_stays_ended_when_it_returns(
    settings, tmp_path, patient
):
    # As docker-compose.yml runs Redis: the append-only file brings its data
    # back after a restart, the copy of the session included.
    server = RedisServer(tmp_path, append_only=True)
    server.start()
    try:
        use_redis(settings, server)
        client = Client()
        client.force_login(patient)
        assert signed_in_as(client.get("/").content.decode()) == patient.name
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        cached = caches["default"].make_key(SESSION_KEY_PREFIX + cookie)
        assert server.client().exists(cached)

        server.stop()
        assert client.post(reverse("account_logout")).status_code == 302
        server.start()
        assert server.client().exists(cached)  # the old copy is back in Redis
        wait_out_the_pause()

        stolen = Client()
        stolen.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        assert signed_in_as(stolen.get("/").content.decode()) is None
        assert not server.client().exists(cached)
    finally:
        server.stop()


@needs_redis_server
@pytest.mark.django_db
def test_pages_use_redis_again_after_it_returns_without_a_restart(
    client, site_on_redis, patient, question_factory
):
    from forum import listcache

    question_factory()
    client.force_login(patient)
    site_on_redis.stop()
    assert client.get("/questions/").status_code == 200
    assert listcache.version() is None  # nothing is cached under a version others cannot see
    site_on_redis.start()
    wait_out_the_pause()
    assert client.get("/questions/").status_code == 200
    assert listcache.version() is not None
    assert site_on_redis.client().dbsize() > 0  # the session and the list are in Redis again


@needs_redis_server
@pytest.mark.django_db
def test_a_hanging_redis_costs_one_timeout_per_pause_not_one_per_operation(settings, redis_server):
    use_redis(settings, redis_server, retry_after=2)
    backend = caches["default"]
    backend.set("page", "cached", 60)
    redis_server.pause()
    try:
        started = time.monotonic()
        answers = [backend.get("page", "missing") for _ in range(50)]
        elapsed = time.monotonic() - started
    finally:
        redis_server.resume()
    # One socket timeout (1 s), then the process's own memory, which lacks the value.
    assert answers == ["missing"] * 50
    assert elapsed < 1.8
    time.sleep(2.1)
    assert backend.get("page") == "cached"


@needs_redis_server
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_first_socket_after_a_redis_restart_connects(site_on_redis, patient):
    def session_cookie() -> str:
        client = Client()
        client.force_login(patient)
        return client.cookies[django_settings.SESSION_COOKIE_NAME].value

    cookie = f"{django_settings.SESSION_COOKIE_NAME}={await sync_to_async(session_cookie)()}"

    async def first_message() -> dict:
        communicator = WebsocketCommunicator(
            application,
            "/ws/notifications/",
            headers=[ORIGIN, (b"cookie", cookie.encode())],
        )
        try:
            connected, _ = await communicator.connect(timeout=3)
            assert connected
            return await communicator.receive_json_from(timeout=3)
        finally:
            await communicator.disconnect()

    assert (await first_message())["type"] == "hello"
    # In a thread, so that the event loop sees the old connections close.
    await asyncio.to_thread(site_on_redis.restart)
    assert (await first_message())["type"] == "hello"


@needs_redis_server
@pytest.mark.django_db
def test_healthz_names_redis_while_it_is_down_and_recovers_with_it(client, site_on_redis):
    assert client.get("/healthz").status_code == 200
    site_on_redis.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    parts = response.json()
    assert parts["database"] == "ok"
    assert parts["cache"].startswith("error") and parts["channel_layer"].startswith("error")
    site_on_redis.start()
    wait_out_the_pause()
    assert client.get("/healthz").json() == {"database": "ok", "channel_layer": "ok", "cache": "ok"}


# The database gone: the site's own 503 page, and back by itself.


@contextmanager
def dead_database():
    """Make this thread's default connection one to a database that is not there."""
    original = connections["default"]
    target = dict(original.settings_dict)
    if original.vendor == "sqlite":
        target["NAME"] = os.path.join(django_settings.BASE_DIR, "no-such-folder", "gone.sqlite3")
    else:
        target.update(HOST="127.0.0.1", PORT=str(spare_port()))
    dead = load_backend(target["ENGINE"]).DatabaseWrapper(target, "default")
    connections["default"] = dead
    try:
        yield
    finally:
        dead.close()
        connections["default"] = original


@pytest.mark.django_db
def test_a_database_outage_answers_the_sites_own_503_page_and_passes(patient, question_factory):
    question = question_factory(title="Mouth sores during FOLFOX, what helps?")
    member = Client(raise_request_exception=False)
    member.force_login(patient)
    visitor = Client(raise_request_exception=False, headers={"accept-language": "zh-hans"})
    with dead_database():
        page = member.get("/")  # fails in a middleware, loading the member
        listing = visitor.get("/questions/")  # fails in the view
        posted = member.post(
            reverse("forum:reply-create", args=[question.pk]), {"body": "Same here"}
        )
    for response in (page, listing, posted):
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
    assert "Shu-Kang will be back in a moment" in page.content.decode()
    assert 'lang="en"' in page.content.decode()
    chinese = listing.content.decode()
    assert 'lang="zh-hans"' in chinese and "舒康马上回来" in chinese
    assert not Reply.objects.exists()
    # Nothing restarts: the next request after the outage is served.
    recovered = member.get("/")
    assert recovered.status_code == 200 and signed_in_as(recovered.content.decode()) == patient.name
    assert "Mouth sores during FOLFOX" in visitor.get("/questions/").content.decode()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class Server:
    """The site on a real WSGI server in a thread: one worker, as gunicorn's sync worker."""

    def __init__(self):
        self.database_down = False
        self._handler = get_wsgi_application()
        self._httpd: WSGIServer = make_server("127.0.0.1", 0, self._app, handler_class=QuietHandler)
        self.port = self._httpd.server_port
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            # Its connections belong to its thread; closed, they let the test database go.
            connections.close_all()

    def _app(self, environ, start_response):
        if not self.database_down:
            return self._handler(environ, start_response)
        with dead_database():
            return self._handler(environ, start_response)

    def get(self, path: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def server(transactional_db):
    running = Server()
    yield running
    running.close()


@pytest.mark.postgres
def test_the_next_request_after_postgresql_drops_every_connection_is_served(server):
    assert server.get("/") == 200
    with connection.cursor() as cursor:
        # Only this test's own database: its server thread's connection.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert any(terminated for (terminated,) in cursor.fetchall())
    assert server.get("/") == 200
    assert server.get("/questions/") == 200


# The containers' health check: alive without Redis, not without the database.


def healthcheck(port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "localhost"}
    return subprocess.run(
        [sys.executable, "deploy/healthcheck.py", str(port)],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_redis_server
def test_the_container_stays_healthy_without_redis_but_not_without_its_database(
    site_on_redis, server
):
    assert healthcheck(server.port).returncode == 0
    site_on_redis.stop()
    without_redis = healthcheck(server.port)
    assert without_redis.returncode == 0, without_redis.stdout
    assert '"cache": "error' in without_redis.stdout
    server.database_down = True
    without_database = healthcheck(server.port)
    assert without_database.returncode == 1
    assert '"database": "error' in without_database.stdout


def test_the_health_check_passes_a_503_only_for_redis_parts():
    path = os.path.join(django_settings.BASE_DIR, "deploy", "healthcheck.py")
    spec = importlib.util.spec_from_file_location("healthcheck", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    alive = script.alive
    assert alive(json.dumps({"database": "ok", "cache": "error: X", "channel_layer": "error: Y"}))
    assert not alive(json.dumps({"database": "error: OperationalError", "cache": "ok"}))
    assert not alive(json.dumps({"database": "ok", "search": "error: X"}))
    assert not alive("<html>Bad Gateway</html>")
