"""Notification latency: 1,000 signed-in sockets on two daphne processes, a task worker, Redis.

Usage (from the repository root, with the project's virtualenv; about 7 minutes):

    .venv/bin/python bench/notify_latency.py --commit HEAD
    .venv/bin/python bench/notify_latency.py --commit HEAD --trace
    .venv/bin/python bench/notify_latency.py --database-url postgres://postgres@127.0.0.1:5432/other_name

Budgets. SPEC section 9: a notification, from the commit of the request that
causes it to the recipient's browser, p99 under 100 ms with 1,000 connected
clients and two server processes sharing Redis on a 2-core machine (the
steady case). Issue 10: with 1,000 followers on a question, a doctor's
answer POST has p99 under 150 ms, and every follower's socket has the
notification within 1.0 s p99 of the commit, with nothing lost or
duplicated (the burst case).

Like bench/http_servers.py it copies the working tree (or, with --commit, a
commit through git archive) to a temporary folder, so collectstatic and the
compiled catalogues land there and concurrent edits to the repository cannot
change the code under test half-way, and runs the project there with
production settings: DJANGO_DEBUG=false, a throwaway secret key, manifest
static storage after collectstatic, SSL redirect off,
DJANGO_ALLOWED_HOSTS=127.0.0.1. E-mail goes over SMTP to bench/smtp_sink.py
(aiosmtpd in its own process). Everything listens on 127.0.0.1 only, and
every process started here is stopped by its PID.

Database: PostgreSQL at postgres://postgres@127.0.0.1:5432/shukang_bench_notify
by default, created here and dropped at the end (a database named with
--database-url must not exist yet; a sqlite:/// URL to a file that does not
exist yet also works). Redis: REDIS_URL's server (default
redis://127.0.0.1:6379) with database 9 (--redis-db), which must be empty or
hold only this project's keys; it is flushed before and after.

Processes: two daphne servers (config.asgi's application) and one task worker,
`manage.py db_worker --queue-name '*' --interval 0.1 --no-reload
--no-startup-delay` (--worker-interval; docker-compose.yml's worker polls
every 0.2 s), all on that database and Redis with the project's own
channels-redis settings, and the SMTP sink.

Seeding (one `manage.py shell -c` script): 1,000 patients (bulk-created, an
unusable password, a confirmed e-mail address) each with one published
question written as forum.services.question_create writes it (slug, rendered
body, search document) plus the Follow row the asker gets; one "burst"
question written the same way and followed by all 1,000 patients; verified
doctors through accounts.services.account_create, enough of them that taking
turns none reaches the per-account answer rate limit
(SHUKANG_RATE_LIMITS["answer"]); and a session for every patient and doctor,
bulk-written as Django's login writes one. Questions are bulk-written
because question_create rate-limits and holds a new account's first post for
moderation; the answers go through the real view and services.

Then, all in one asyncio loop in this process: 1,000 websocket clients (the
`websockets` package) connect to /ws/notifications/ with their session
cookie, patient i on server i % 2, at most --connect-concurrency handshakes at
once, and each waits for its `hello`.

- Steady case: doctors answer --answers distinct patients' questions over
  HTTP (CSRF cookie and token from the question page), alternating servers,
  at --rate answers per second. Each answer notifies exactly one asker, who
  is connected to the same process as the request or to the other one; the
  request pushes it after its commit (notifications.services.DIRECT_PUSH_MAX).
- Burst case: --bursts answers to the burst question, alternating servers,
  one every --burst-interval seconds (never before the previous one has
  reached every follower), each by the next doctor and each in other words
  (the forum merges the same words from the same author within minutes).
  Each notifies all 1,000 patients: the request stores one task, and the
  worker stores the 1,000 notifications and e-mails, pushes them after its
  commit (one fan-out message per 200 notifications, which each server
  hands to its own sockets: notifications.fanout) and mails them.

Latency is the client's receive time minus the commit of the transaction
that stored the notification (same machine, same clock). The commit time is
logged by a small module written into the copy only (bench_hooks.py, loaded
by bench_asgi.py, which serves config.asgi's application, and by
bench_worker.py, which is manage.py with the hooks loaded): it notes the URL
of each post forum.events announces and the ids notify() creates, and logs
them with the time at which the connection runs its commit hooks, right
after COMMIT. Latency counts from the answer's own commit, also when the
worker stores the notifications later (a popular question). In the worker
it logs each task's start and end. The notification's own `created` (the
row's insert) is reported beside it. The clients share the 2 cores with both
servers, the worker, the sink, PostgreSQL and Redis.

Loss: every answered asker must receive exactly one notification per answer
(matched by the answer's URL from the POST's redirect), and nobody anything
else. Every e-mail must reach the sink at most once (matched by address and
the answer's link), and each must have arrived or, once the worker has been
stopped, still be queued in the database: the script waits at most
--mail-timeout seconds after the last answer for the queue to drain. Also
reported: failed connects, sockets closed early, the doctor's POST times, the
CPU of each server and of the worker, how long tasks waited for the
worker, and server memory per connection. Exits non-zero if a message or an
e-mail was lost or duplicated, a client failed to connect, a socket closed
early or an answer was refused.

--trace adds, in the same hooks module, logs of each push (start, unread
counts done, end), each group_send and each NotificationConsumer.
notification_created, and prints where each notification's time went. The
headline figures come from runs without it.
"""

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_servers as common  # noqa: E402  (bench/ is not a package)
import smtp_sink  # noqa: E402
from http_servers import HOST  # noqa: E402

PACKAGES = [
    "django",
    "daphne",
    "channels",
    "channels-redis",
    "redis",
    "websockets",
    "psycopg",
    "django-tasks-db",
    "aiosmtpd",
]

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/shukang_bench_notify"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
PROJECT_PREFIX = b"shukang"  # the cache's KEY_PREFIX and the channel layer's prefix in settings
PUSH_TASK = "notifications_push"
FOLLOWERS_TASK = "answer_followers_notify"
MAIL_TASK = "emails_send"

SETUP = r"""
import json, os
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from accounts.services import account_create
from core.markdown import render_markdown
from forum import search
from forum.models import Category, Follow, Question
from forum.services import _question_slug

n = int(os.environ["BENCH_PATIENTS"])
answers = int(os.environ["BENCH_ANSWERS"])
category = Category.objects.order_by("pk").first()
# Answers are rate-limited per doctor (core.ratelimit): enough verified
# doctors share the steady answers and the burst answers that none reaches
# the limit.
limit = getattr(settings, "SHUKANG_RATE_LIMITS", {}).get("answer", (10**9, 3600))[0]
doctors = [
    account_create(email=f"doctor{d:02d}@bench.invalid", password="bench-doctor-password-2026",
                   name=f"Dr. Bench {d:02d}", role="doctor", verified=True, specialties=[])
    for d in range(max(2, -(-answers // limit) + 1))
]
now = timezone.now()
body = ("After the third cycle of XELOX my mother has nausea for four days and eats very little. "
        "Is this expected, and what can we do at home before the next cycle?")
body_html = render_markdown(body)
unusable = make_password(None)
with transaction.atomic():
    patients = User.objects.bulk_create([
        User(email=f"patient{i:04d}@bench.invalid", name=f"Patient {i:04d}", role=User.Role.PATIENT,
             password=unusable, date_joined=now)
        for i in range(n)
    ])
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=p, email=p.email, primary=True, verified=True) for p in patients])
    # Written as forum.services.question_create writes a published question,
    # without its per-account question rate limit and first-post hold.
    questions = []
    titles = [f"Nausea after chemotherapy, question {i:04d}: how long does it last?" for i in range(n)]
    titles.append("A question every patient follows: the burst case of the benchmark")
    for title, p in zip(titles, [*patients, patients[0]]):
        questions.append(Question(author=p, title=title, slug=_question_slug(title), body=body,
                                  body_html=body_html, category=category,
                                  search_document=search.document(title, body),
                                  created_at=now, last_activity_at=now))
    Question.objects.bulk_create(questions)
    burst = questions.pop()
    Follow.objects.bulk_create([Follow(question=q, user_id=q.author_id) for q in questions])
    Follow.objects.bulk_create([Follow(question=burst, user=p) for p in patients])

store = SessionStore()
expire = now + timedelta(seconds=settings.SESSION_COOKIE_AGE)
keys, rows = [], []
for user in [*patients, *doctors]:
    key = get_random_string(32, VALID_KEY_CHARS)
    data = {SESSION_KEY: user._meta.pk.value_to_string(user),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash()}
    rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    keys.append(key)
Session.objects.bulk_create(rows)

with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump({
        "patients": [[p.pk, k, q.pk, q.get_absolute_url(), p.email]
                     for p, k, q in zip(patients, keys, questions)],
        "doctor_sessions": keys[n:],
        "burst": [burst.pk, burst.get_absolute_url()],
    }, out)
"""

# Written into the private copy only. The servers serve bench_asgi's
# application (config.asgi's, unchanged) and the worker runs bench_worker.py
# (manage.py with the hooks loaded); both import bench_hooks, which wraps a
# few functions from outside without changing what they do.
HOOKS_MODULE = '''"""Added by bench/notify_latency.py to its private copy only: timestamps, nothing else."""

import json
import os
import threading
import time

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.tasks.signals import task_finished, task_started

from forum import events
from notifications import services

_out = open(os.environ["BENCH_TRACE"], "a", buffering=1)


def _log(**fields):
    _out.write(json.dumps(fields) + "\\n")


# When did the transaction of the action that notified commit? Keyed by the
# URL of the post announced and of each notification (an answer's), and by
# the ids notify() created, if any: with a popular question the worker, not
# the answering request, stores the notifications, in a later transaction.
_notify = services.notify


def _noted_notify(**kwargs):
    created = _notify(**kwargs)
    pending = connections["default"].__dict__.setdefault("bench_pending", [])
    pending.append({"url": kwargs.get("url", ""), "ids": [n.pk for n in created or ()]})
    return created


services.notify = events.notify = _noted_notify

_post_published = events.post_published


def _noted_post_published(post):
    # Every new post that is announced: its URL is what its notifications link to.
    pending = connections["default"].__dict__.setdefault("bench_pending", [])
    pending.append({"url": post.get_absolute_url(), "ids": []})
    return _post_published(post)


events.post_published = _noted_post_published

_run_commit_hooks = BaseDatabaseWrapper.run_and_clear_commit_hooks


def _noted_run_commit_hooks(self):
    # Runs right after COMMIT, before any on_commit callback.
    pending = self.__dict__.pop("bench_pending", None)
    if pending:
        _log(stage="commit", notes=pending, at=time.time())
    return _run_commit_hooks(self)


BaseDatabaseWrapper.run_and_clear_commit_hooks = _noted_run_commit_hooks

_rollback = BaseDatabaseWrapper.rollback


def _noted_rollback(self):
    self.__dict__.pop("bench_pending", None)
    return _rollback(self)


BaseDatabaseWrapper.rollback = _noted_rollback


# The worker: when each task started and ended, and when it was queued.
def _task_started(sender, task_result, **kwargs):
    _log(
        stage="task_start",
        task=task_result.task.name,
        id=str(task_result.id),
        n=len(task_result.kwargs.get("ids") or ()),
        first=(task_result.kwargs.get("ids") or [None])[0],
        answer=task_result.kwargs.get("answer_id"),
        enqueued=task_result.enqueued_at.timestamp(),
        at=time.time(),
    )


def _task_finished(sender, task_result, **kwargs):
    _log(stage="task_end", id=str(task_result.id), status=str(task_result.status), at=time.time())


task_started.connect(_task_started, weak=False)
task_finished.connect(_task_finished, weak=False)

if os.environ.get("BENCH_TRACE_ALL"):
    from channels_redis.core import RedisChannelLayer

    from notifications import consumers

    _local = threading.local()
    _push = services.push

    def _traced_push(notifications, *args, **kwargs):
        notifications = list(notifications)
        started, _local.counted = time.time(), None
        try:
            return _push(notifications, *args, **kwargs)
        finally:
            _log(
                stage="push",
                ids=[n.pk for n in notifications],
                start=started,
                counted=_local.counted,
                end=time.time(),
            )

    services.push = _traced_push

    _unread_counts = services.unread_counts

    def _traced_unread_counts(user_ids):
        try:
            return _unread_counts(user_ids)
        finally:
            _local.counted = time.time()

    services.unread_counts = _traced_unread_counts

    _group_send = RedisChannelLayer.group_send

    async def _traced_group_send(self, group, message):
        started = time.time()
        try:
            return await _group_send(self, group, message)
        finally:
            ended = time.time()
            if "id" in message:
                _log(stage="group_send", id=message["id"], start=started, end=ended)
            for _user_id, event in message.get("events", ()):  # a fan-out message
                _log(stage="group_send", id=event["id"], start=started, end=ended)

    RedisChannelLayer.group_send = _traced_group_send

    _created = consumers.NotificationConsumer.notification_created

    async def _traced_created(self, event):
        started = time.time()
        try:
            return await _created(self, event)
        finally:
            _log(stage="consumer", id=event["id"], start=started, end=time.time())

    consumers.NotificationConsumer.notification_created = _traced_created
'''

ASGI_MODULE = '''"""Added by bench/notify_latency.py to its private copy only."""

from config.asgi import application  # noqa: F401 - what daphne serves

import bench_hooks  # noqa: E402, F401
'''

WORKER_MODULE = '''"""Added by bench/notify_latency.py to its private copy only: manage.py, hooks loaded."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import bench_hooks  # noqa: E402, F401
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(["manage.py", *sys.argv[1:]])
'''


# Preparation: database, Redis, project copy


def create_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        if Path(url.removeprefix("sqlite:///")).exists():
            sys.exit(f"{url} already exists: name a file this script may create and delete")
        return
    conn, name = common.postgres_admin(url)
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            if url != DEFAULT_DATABASE:
                sys.exit(
                    f"database {name} already exists: name one this script may create and drop"
                )
            # Left behind by an interrupted run of this script: it is ours.
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    conn, name = common.postgres_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url(db: int) -> str:
    base = (os.environ.get("REDIS_URL") or DEFAULT_REDIS).strip()
    parts = urlsplit(base)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("REDIS_URL must point at a server on this machine")
    return parts._replace(path=f"/{db}").geturl()


def redis_flush(url: str, *, check: bool) -> None:
    """Empty this run's Redis database, refusing one holding other projects' keys."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        if check:
            strangers = [
                key for key in client.scan_iter(count=1000) if not key.startswith(PROJECT_PREFIX)
            ]
            if strangers:
                sys.exit(
                    f"{url} holds keys that are not this project's (e.g. {strangers[0]!r}): use --redis-db"
                )
        client.flushdb()
    finally:
        client.close()


def environment(workdir: Path, database_url: str, redis: str, smtp_port: int) -> dict[str, str]:
    """http_servers' production-like environment, with this run's database, Redis and mail sink."""
    env = common.bench_environment(workdir)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=HOST,
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(project: Path, env: dict[str, str], *command: str, timeout: int = 180) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        sys.exit(f"manage.py {command[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare(
    workdir: Path, env: dict[str, str], args: argparse.Namespace, patients: int, answers: int
) -> tuple[Path, str, dict, float]:
    """Copy the project, build catalogues and static files, migrate, seed.

    Return the copy, which code it is, the seed and the seconds seeding took.
    """
    project = workdir / "project"
    code = common.copy_project(project, args.commit, patch=args.apply)
    (project / "bench_hooks.py").write_text(HOOKS_MODULE)
    (project / "bench_asgi.py").write_text(ASGI_MODULE)
    (project / "bench_worker.py").write_text(WORKER_MODULE)
    for command in (
        ["compiletranslations"],
        ["collectstatic", "--noinput", "-v0"],
        ["migrate", "--noinput", "-v0"],
    ):
        manage(project, env, *command)
    started = time.monotonic()
    out = workdir / "seed.json"
    seed_env = {
        **env,
        "BENCH_PATIENTS": str(patients),
        "BENCH_ANSWERS": str(answers),
        "BENCH_OUT": str(out),
    }
    manage(project, seed_env, "shell", "--no-imports", "-c", SETUP)
    return project, code, json.loads(out.read_text()), time.monotonic() - started


# Processes


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log: Path
    trace: Path | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        return common.cpu_seconds([self.process.pid])


def start_daphne(
    project: Path, env: dict[str, str], workdir: Path, index: int, trace: bool
) -> Proc:
    port = common.free_port()
    log, trace_log = workdir / f"daphne-{index}.log", workdir / f"trace-daphne-{index}.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            HOST,
            "-p",
            str(port),
            "-v",
            "0",
            "bench_asgi:application",
        ],
        cwd=project,
        env={**env, "BENCH_TRACE": str(trace_log), **({"BENCH_TRACE_ALL": "1"} if trace else {})},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Proc(f"daphne {index}", process, log, trace_log, port)
    try:
        common.wait_until_serving(port, process)
    except RuntimeError:
        stop(server)
        raise
    return server


def start_worker(
    project: Path, env: dict[str, str], workdir: Path, interval: float, trace: bool
) -> Proc:
    """One task worker: ``manage.py db_worker`` as docker-compose.yml runs it, hooks loaded."""
    log, trace_log = workdir / "worker.log", workdir / "trace-worker.jsonl"
    argv = ["db_worker", "--queue-name", "*", "--interval", f"{interval:g}"]
    argv += ["--no-reload", "--no-startup-delay"]
    process = subprocess.Popen(
        [sys.executable, "bench_worker.py", *argv],
        cwd=project,
        env={**env, "BENCH_TRACE": str(trace_log), **({"BENCH_TRACE_ALL": "1"} if trace else {})},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Proc("worker", process, log, trace_log)
    deadline = time.monotonic() + 60
    while "Starting worker" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(worker)
            raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return worker


def stop(proc: Proc, grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds: the worker finishes its task first."""
    process = proc.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# HTTP as the doctor


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them: a 302 is an answer's success."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(url: str, *, cookie: str, data: dict | None = None):
    """Status, headers and body of one request; redirects are not followed."""
    headers = {"Cookie": cookie}
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


def doctor_csrf(server: Proc, question_url: str, session: str) -> tuple[str, str]:
    """Open a question page as the doctor: the CSRF cookie and the form's token."""
    status, headers, page = http(server.url + question_url, cookie=f"sessionid={session}")
    if status != 200:
        raise RuntimeError(f"the question page answered {status} to the doctor:\n{page[:2000]}")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("no answer form on the question page: is the doctor verified?")
    cookies = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookies.load(header.split(";", 1)[0])
    return cookies["csrftoken"].value, found.group(1)


@dataclass
class Post:
    server: int
    question: int
    seconds: float = 0.0
    status: int = 0
    url: str = ""  # the new answer's URL, from the redirect


def post_answer(
    server: Proc, question_id: int, *, session: str, csrf: tuple[str, str], text: str
) -> tuple[int, float, str]:
    cookie, token = csrf
    started = time.perf_counter()
    status, headers, body = http(
        f"{server.url}/questions/{question_id}/answer/",
        cookie=f"sessionid={session}; csrftoken={cookie}",
        data={"csrfmiddlewaretoken": token, "body": text},
    )
    seconds = time.perf_counter() - started
    if status != 302:
        print(f"answer to question {question_id} answered {status}: {body[:500]}", file=sys.stderr)
    return (
        status,
        seconds,
        urlsplit(headers.get("Location") or "")._replace(scheme="", netloc="").geturl(),
    )


# Websocket clients


@dataclass
class Client:
    index: int
    user_id: int
    session: str
    question: int
    server: int
    email: str
    connect_seconds: float = 0.0
    failed: str = ""
    closed_early: str = ""
    messages: list[tuple[float, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)  # notification URLs, filled as wait_for looks
    looked: int = 0
    socket: object = None


async def run_client(
    client: Client, server: Proc, gate: asyncio.Semaphore, stopping: asyncio.Event
) -> None:
    import websockets

    try:
        async with gate:
            started = time.perf_counter()
            socket = await websockets.connect(
                server.url.replace("http", "ws", 1) + "/ws/notifications/",
                origin=server.url,
                additional_headers={"Cookie": f"sessionid={client.session}"},
                open_timeout=60,
                ping_interval=None,  # browsers do not ping; daphne pings every 20 s and is answered
                compression=None,
            )
            hello = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"first message was {hello!r}")
    except Exception as error:  # noqa: BLE001 - counted, reported
        client.failed = f"{type(error).__name__}: {error}"
        return
    client.connect_seconds = time.perf_counter() - started
    client.socket = socket
    try:
        async for raw in socket:
            client.messages.append((time.time(), raw))
    except Exception as error:  # noqa: BLE001 - an abnormal close
        client.closed_early = f"{type(error).__name__}: {error}"
    if not stopping.is_set() and not client.closed_early:
        client.closed_early = f"closed with code {socket.close_code}"


def notifications_since(
    client: Client, start: int, end: int | None = None
) -> list[tuple[float, dict]]:
    return [
        (at, message)
        for at, raw in client.messages[start:end]
        if (message := json.loads(raw)).get("type") == "notification"
    ]


@dataclass
class Case:
    name: str
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    extra: int = 0
    # (notification id, created, received, answer URL, client index)
    samples: list[tuple[int, float, float, str, int]] = field(default_factory=list)
    route: dict[str, int] = field(default_factory=dict)  # answer URL -> server that took the POST
    posts: list[Post] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # daphne 0, daphne 1, worker
    wall: float = 0.0
    pressure: float | None = None  # share of the wall time some task waited for a CPU
    lag_ms: list[float] = field(default_factory=list)  # this loop's wake-up delays


def judge(
    case: Case, clients: list[Client], marks: list[tuple[int, int]], expect: dict[int, set[str]]
) -> None:
    """Compare what arrived between ``marks`` with ``expect`` (client index -> answer URLs)."""
    case.expected = sum(len(urls) for urls in expect.values())
    for client in clients:
        start, end = marks[client.index]
        wanted = expect.get(client.index, set())
        first: dict[str, tuple[float, dict]] = {}
        for at, message in notifications_since(client, start, end):
            url = message.get("url", "")
            if url in wanted and url not in first:
                first[url] = (at, message)
            else:
                case.extra += 1
        case.lost += len(wanted) - len(first)
        case.delivered += len(first)
        for url, (at, message) in first.items():
            created = datetime.fromisoformat(message["created"]).timestamp()
            case.samples.append((message["id"], created, at, url, client.index))


async def wait_for(clients: list[Client], expect: dict[int, set[str]], timeout: float) -> bool:
    """Wait until every client has every URL in ``expect``; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        missing = 0
        for index, urls in expect.items():
            client = clients[index]
            for _at, raw in client.messages[client.looked :]:
                client.seen.add(json.loads(raw).get("url", ""))
            client.looked = len(client.messages)
            missing += not urls <= client.seen
        if not missing:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)


def cpu_pressure() -> float | None:
    """Seconds during which some task waited for a CPU (Linux PSI), or None without PSI."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(line.rsplit("total=", 1)[1]) / 1e6


@dataclass
class Window:
    """What the machine did during one case: CPU pressure, this loop's lag, the servers' CPU."""

    lags: list[tuple[float, float]]
    procs: list[Proc]
    started: float = 0.0
    pressure: float | None = None
    cpu: list[float] = field(default_factory=list)

    def open(self) -> None:
        self.started, self.pressure = time.monotonic(), cpu_pressure()
        self.cpu = [proc.cpu_seconds() for proc in self.procs]

    def close(self, case: Case) -> None:
        now, pressure = time.monotonic(), cpu_pressure()
        case.wall = now - self.started
        if pressure is not None and self.pressure is not None:
            case.pressure = (pressure - self.pressure) / case.wall
        case.lag_ms = [lag for at, lag in self.lags if at >= self.started]
        case.cpu = [
            proc.cpu_seconds() - before for proc, before in zip(self.procs, self.cpu, strict=True)
        ]


async def watch_lag(lags: list[tuple[float, float]], stopping: asyncio.Event) -> None:
    """Sleep 10 ms at a time and record how late each wake-up is: the clients' own delay."""
    while not stopping.is_set():
        started = time.monotonic()
        await asyncio.sleep(0.01)
        now = time.monotonic()
        lags.append((now, 1000 * (now - started - 0.01)))


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def bench(servers: list[Proc], worker: Proc, seed: dict, args: argparse.Namespace) -> dict:
    patients = seed["patients"][: args.clients]
    doctors = seed["doctor_sessions"]
    executor = ThreadPoolExecutor(max_workers=8)
    loop = asyncio.get_running_loop()

    # Each doctor's CSRF cookie and token from a question page on each
    # server; this also warms both servers before their memory is read.
    csrf = {
        (d, s): await loop.run_in_executor(executor, doctor_csrf, server, patients[0][3], doctor)
        for d, doctor in enumerate(doctors)
        for s, server in enumerate(servers)
    }
    rss_before = [server.rss_kib() for server in servers]
    connect_cpu = [server.cpu_seconds() for server in servers]

    clients = [
        Client(i, user_id, key, question, i % 2, email)
        for i, (user_id, key, question, _url, email) in enumerate(patients)
    ]
    gate = asyncio.Semaphore(args.connect_concurrency)
    stopping = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(run_client(c, servers[c.server], gate, stopping)) for c in clients]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(c.socket or c.failed for c in clients):
        await asyncio.sleep(0.05)
    connect_wall = time.perf_counter() - started
    await asyncio.sleep(1)  # let the servers settle before reading their memory
    rss_after = [server.rss_kib() for server in servers]
    connect_cpu = [
        server.cpu_seconds() - before for server, before in zip(servers, connect_cpu, strict=True)
    ]
    connected = [c for c in clients if c.socket]
    per_server = [sum(1 for c in connected if c.server == s) for s in range(2)]
    print(
        f"... {len(connected)} of {len(clients)} clients connected in {connect_wall:.1f} s",
        file=sys.stderr,
    )

    text = "Nausea in the days after XELOX is common: small meals and the anti-sickness tablets help. (bench)"
    turns = iter(range(10**9))

    async def answer(server: int, question: int, words: str) -> Post:
        """One answer over HTTP; doctors take turns so none reaches the rate limit."""
        post = Post(server, question)
        d = next(turns) % len(doctors)
        post.status, post.seconds, post.url = await loop.run_in_executor(
            executor,
            lambda: post_answer(
                servers[server], question, session=doctors[d], csrf=csrf[d, server], text=words
            ),
        )
        return post

    lags: list[tuple[float, float]] = []
    watcher = asyncio.create_task(watch_lag(lags, stopping))
    window = Window(lags, [*servers, worker])
    expected_mail: set[tuple[str, str]] = set()

    # Steady case: answers to distinct askers, alternating servers, at a modest rate.
    rng = random.Random(20261126)
    answered = rng.sample(connected, min(args.answers, len(connected)))
    steady = Case(f"steady: {len(answered)} answers at {args.rate:g}/s, 1 asker each")
    start = [len(c.messages) for c in clients]
    window.open()
    t0 = time.perf_counter()
    pending = []
    for n, client in enumerate(answered):
        await asyncio.sleep(max(0.0, t0 + n / args.rate - time.perf_counter()))
        pending.append(asyncio.create_task(answer(n % 2, client.question, text)))
    steady.posts = list(await asyncio.gather(*pending))
    expect = {
        c.index: {p.url} for c, p in zip(answered, steady.posts, strict=True) if p.status == 302
    }
    steady.route = {p.url: p.server for p in steady.posts}
    expected_mail |= {(clients[i].email, url) for i, urls in expect.items() for url in urls}
    await wait_for(clients, expect, timeout=10)
    window.close(steady)
    await asyncio.sleep(1)  # anything late or stray is counted as extra
    judge(
        steady, clients, [(s, len(c.messages)) for s, c in zip(start, clients, strict=True)], expect
    )

    # Burst case: each answer notifies every patient; the worker pushes and mails.
    burst_question = seed["burst"][0]
    burst = Case(f"burst: {args.bursts} answers, {len(connected)} connected followers each")
    start = [len(c.messages) for c in clients]
    expect = {c.index: set() for c in connected}
    window.open()
    t0 = time.perf_counter()
    timeouts = 0
    for b in range(args.bursts):
        await asyncio.sleep(max(0.0, t0 + b * args.burst_interval - time.perf_counter()))
        words = f"{text} Answer {b + 1} of {args.bursts} to the question everyone follows."
        post = await answer(b % 2, burst_question, words)
        burst.posts.append(post)
        if post.status != 302 or post.url in burst.route:  # refused, or merged with an earlier one
            post.status = post.status if post.status != 302 else 409
            continue
        burst.route[post.url] = post.server
        for urls in expect.values():
            urls.add(post.url)
        expected_mail |= {(email, post.url) for *_rest, email in patients}
        timeouts += not await wait_for(
            clients, {c.index: {post.url} for c in connected}, timeout=args.burst_timeout
        )
    window.close(burst)
    await asyncio.sleep(1)
    judge(
        burst, clients, [(s, len(c.messages)) for s, c in zip(start, clients, strict=True)], expect
    )

    # Every e-mail must reach the sink, once; what has not yet after
    # --mail-timeout is counted from the database as still queued.
    mail_started = time.monotonic()
    while (
        smtp_sink.count_lines(args.sink_out) < len(expected_mail)
        and time.monotonic() - mail_started < args.mail_timeout
    ):
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # anything sent twice arrives too

    stopping.set()
    early = [c for c in clients if c.closed_early]
    await asyncio.gather(
        *(c.socket.close() for c in connected if not c.closed_early), return_exceptions=True
    )
    await asyncio.wait_for(asyncio.gather(*tasks, watcher, return_exceptions=True), 30)
    executor.shutdown()
    return {
        "clients": clients,
        "connected": per_server,
        "failed": [c for c in clients if c.failed],
        "early": early,
        "connect_wall": connect_wall,
        "connect_ms": [1000 * c.connect_seconds for c in connected],
        "rss_before": rss_before,
        "rss_after": rss_after,
        "connect_cpu": connect_cpu,
        "cases": [steady, burst],
        "failed_posts": sum(1 for case in (steady, burst) for p in case.posts if p.status != 302),
        "burst_timeouts": timeouts,
        "doctors": len(doctors),
        "expected_mail": expected_mail,
    }


# Logs of the hooks


@dataclass
class Logs:
    commits: dict[int, float] = field(default_factory=dict)  # notification id -> its commit
    actions: dict[str, float] = field(default_factory=dict)  # URL -> the first commit notifying it
    tasks: list[dict] = field(default_factory=list)  # task_start entries, with "end" added
    pushes: list[dict] = field(default_factory=list)
    marks: dict[int, dict[str, float]] = field(default_factory=dict)  # --trace, per notification


def read_logs(procs: list[Proc]) -> Logs:
    logs, ends = Logs(), {}
    for proc in procs:
        if proc.trace is None or not proc.trace.exists():
            continue
        for line in proc.trace.read_text().splitlines():
            entry = json.loads(line)
            stage = entry["stage"]
            if stage == "commit":
                for note in entry["notes"]:
                    logs.commits.update(dict.fromkeys(note["ids"], entry["at"]))
                    if entry["at"] < logs.actions.get(note["url"], float("inf")):
                        logs.actions[note["url"]] = entry["at"]
            elif stage == "task_start":
                logs.tasks.append(entry)
            elif stage == "task_end":
                ends[entry["id"]] = entry["at"]
            elif stage == "push":
                logs.pushes.append(entry)
                for pk in entry["ids"]:
                    logs.marks.setdefault(pk, {}).update(
                        push=entry["start"], counted=entry["counted"] or entry["start"]
                    )
            elif stage == "group_send":
                logs.marks.setdefault(entry["id"], {}).update(
                    send_start=entry["start"], send_end=entry["end"]
                )
            elif stage == "consumer":
                logs.marks.setdefault(entry["id"], {}).update(
                    consumer_start=entry["start"], consumer_end=entry["end"]
                )
    for task in logs.tasks:
        task["end"] = ends.get(task["id"])
    return logs


def latencies(case: Case, logs: Logs, *, since: str = "commit") -> list[float]:
    """ms from the commit of the action (or from the row's insert) to each client."""
    if since == "created":
        return [1000 * (at - created) for _pk, created, at, _url, _c in case.samples]
    return [
        1000 * (at - logs.actions[url])
        for _pk, _c, at, url, _ci in case.samples
        if url in logs.actions
    ]


# Report


def figures(values: list[float]) -> tuple[str, str, str, str]:
    if not values:
        return ("-",) * 4
    return tuple(f"{percentile(values, q):.1f}" for q in (0.50, 0.95, 0.99)) + (
        f"{max(values):.1f}",
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def unsent_emails(database_url: str) -> int | None:
    """E-mails still queued in the database (the worker stopped first), or None on SQLite."""
    if database_url.startswith("sqlite:///"):
        return None
    conn, name = common.postgres_admin(database_url)
    conn.close()
    import psycopg

    parts = urlsplit(database_url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname=name,
    ) as conn:
        row = conn.execute(
            "SELECT count(*) FROM notifications_outgoingemail WHERE sent_at IS NULL"
        ).fetchone()
    return row[0]


def check_mail(path: Path, expected: set[tuple[str, str]], unsent: int | None) -> dict:
    """Each expected e-mail arrived once, or is still queued; nothing else arrived."""
    messages = smtp_sink.read_messages(path)
    counts: dict[tuple[str, str], int] = {}
    for message in messages:
        key = (message.to, message.link)
        counts[key] = counts.get(key, 0) + 1
    missing = len(expected - counts.keys())
    return {
        "expected": len(expected),
        "arrived": len(messages),
        "queued": unsent,
        # Not at the sink and not waiting in the database either.
        "lost": missing if unsent is None else max(0, missing - unsent),
        "duplicated": sum(n - 1 for key, n in counts.items() if key in expected and n > 1),
        "stray": sum(n for key, n in counts.items() if key not in expected),
        "first": messages[0].at if messages else None,
        "last": messages[-1].at if messages else None,
    }


def report(result: dict, logs: Logs, mail: dict, args: argparse.Namespace, setup: dict) -> bool:
    steady, burst = result["cases"]
    print(f"machine: {common.machine(PACKAGES)}")
    print(f"code: {setup['code']}")
    print(
        f"load average (1 min) at start {result['load'][0]}, at end {result['load'][1]}: other work shares the 2 cores"
    )
    print(
        f"setup: 2 daphne processes and 1 worker (db_worker --interval {args.worker_interval:g}) "
        f"with DJANGO_DEBUG=false, {setup['database']}, channels-redis on {setup['redis']}, "
        f"SMTP sink on {HOST}:{setup['smtp_port']}; seeding took {setup['seed_seconds']:.1f} s; "
        f"{result['doctors']} doctors take turns answering (per-account answer rate limit)"
    )
    print(
        f"clients: {len(result['clients'])} asked, {sum(result['connected'])} connected "
        f"({result['connected'][0]} + {result['connected'][1]}) in {result['connect_wall']:.1f} s "
        f"(at most {args.connect_concurrency} handshakes at once; handshake+hello p50 "
        f"{percentile(result['connect_ms'], 0.5):.0f} ms, p99 {percentile(result['connect_ms'], 0.99):.0f} ms); "
        f"failed connects {len(result['failed'])}, closed early {len(result['early'])}"
    )
    missing_commits = sum(
        1 for case in (steady, burst) for s in case.samples if s[3] not in logs.actions
    )
    if missing_commits:
        print(f"warning: {missing_commits} notifications without a logged commit", file=sys.stderr)
    print()
    print("Latency: client receive time - commit of the answer's transaction, ms")
    rows = []
    for case in (steady, burst):
        rows.append(
            (
                case.name,
                str(case.expected),
                str(case.delivered),
                str(case.lost),
                str(case.extra),
                *figures(latencies(case, logs)),
            )
        )
        if case is steady:
            for route in ("same process", "other process"):
                values = [
                    1000 * (at - logs.actions[url])
                    for _pk, _c, at, url, ci in case.samples
                    if url in logs.actions
                    and (case.route.get(url) == result["clients"][ci].server)
                    == (route == "same process")
                ]
                rows.append(
                    (
                        f"  of which asker on the {route}",
                        str(len(values)),
                        "",
                        "",
                        "",
                        *figures(values),
                    )
                )
        rows.append(
            (
                "  the same from the row's insert",
                "",
                "",
                "",
                "",
                *figures(latencies(case, logs, since="created")),
            )
        )
    common.table(
        ("case", "expected", "delivered", "lost", "extra", "p50", "p95", "p99", "max"), rows
    )

    print()
    print("Bursts, one row per answer (ms; commit -> sockets over that answer's followers):")
    rows = []
    by_url: dict[str, list[tuple[int, float, float]]] = {}
    for pk, created, at, url, _ci in burst.samples:
        by_url.setdefault(url, []).append((pk, created, at))
    push_starts = {
        task["first"]: task["at"]
        for task in logs.tasks
        if task["task"] == PUSH_TASK and "first" in task
    }
    followers_tasks = {
        task["answer"]: task
        for task in logs.tasks
        if task["task"] == FOLLOWERS_TASK and task.get("answer")
    }
    for b, post in enumerate(burst.posts, 1):
        got = by_url.get(post.url, [])
        commit = logs.actions.get(post.url)
        stored = [logs.commits[pk] - c for pk, c, _a in got if pk in logs.commits]
        values = [1000 * (at - commit) for _pk, _c, at in got] if commit else []
        first_id = min((pk for pk, _c, _a in got), default=None)
        # The followers' task pushes after its own commit; an older tree queued a push task.
        told = followers_tasks.get(int(post.url.rsplit("answer-", 1)[-1] or 0))
        pushed = push_starts.get(first_id) or (told or {}).get("at")
        rows.append(
            (
                str(b),
                str(post.server),
                str(post.status),
                f"{1000 * post.seconds:.0f}",
                f"{1000 * max(stored):.0f}" if stored else "-",
                f"{1000 * (pushed - commit):.0f}" if pushed and commit else "-",
                str(len(got)),
                f"{min(values):.0f}" if values else "-",
                f"{percentile(values, 0.5):.0f}" if values else "-",
                f"{percentile(values, 0.99):.0f}" if values else "-",
                f"{max(values):.0f}" if values else "-",
            )
        )
    common.table(
        (
            "answer",
            "server",
            "status",
            "POST ms",
            "insert -> rows commit (max)",
            "commit -> task starts",
            "sockets",
            "first",
            "p50",
            "p99",
            "last",
        ),
        rows,
    )

    print()
    rows = []
    for case in (steady, burst):
        posts = [1000 * p.seconds for p in case.posts]
        rows.append(
            (
                case.name.split(":")[0],
                f"{case.wall:.1f}",
                *(f"{c:.1f}" for c in case.cpu),
                f"{statistics.median(posts):.0f}",
                f"{percentile(posts, 0.99):.0f}",
                f"{max(posts):.0f}",
                "-" if case.pressure is None else f"{100 * case.pressure:.0f}",
                f"{percentile(case.lag_ms, 0.99):.1f} / {max(case.lag_ms):.1f}"
                if case.lag_ms
                else "-",
            )
        )
    print(
        "CPU stall: share of the time some task on the machine waited for a CPU (/proc/pressure/cpu);"
    )
    print(
        "client lag: how late this process's 10 ms timer woke (the clients' own delay), p99 / max ms"
    )
    common.table(
        (
            "case",
            "wall s",
            "daphne 0 CPU s",
            "daphne 1 CPU s",
            "worker CPU s",
            "POST p50 ms",
            "POST p99 ms",
            "POST max ms",
            "CPU stall %",
            "client lag ms",
        ),
        rows,
    )

    print()
    print("Worker: tasks run (enqueued -> started is the wait for the worker; ms)")
    rows = []
    names = sorted({t["task"] for t in logs.tasks}, key=lambda name: (name == MAIL_TASK, name))
    for name in names:
        runs = [t for t in logs.tasks if t["task"] == name]
        waits = [1000 * (t["at"] - t["enqueued"]) for t in runs]
        took = [1000 * (t["end"] - t["at"]) for t in runs if t["end"]]
        items = sum(t["n"] for t in runs)
        rows.append((name, str(len(runs)), str(items), *figures(waits)[::2], *figures(took)[::2]))
    common.table(("task", "runs", "ids in all", "wait p50", "wait p99", "run p50", "run p99"), rows)
    drained = ""
    if mail["last"] and mail["first"]:
        last_commit = max(logs.actions.values(), default=mail["first"])
        drained = (
            f"; first to last e-mail {mail['last'] - mail['first']:.1f} s "
            f"({mail['arrived'] / max(mail['last'] - mail['first'], 1e-9):.0f} e-mails/s while answers kept coming), "
            f"last e-mail {mail['last'] - last_commit:.1f} s after the last answer's commit"
        )
    queued = "?" if mail["queued"] is None else mail["queued"]
    print(
        f"e-mail through the SMTP sink: expected {mail['expected']}, arrived {mail['arrived']}, "
        f"still queued when the worker stopped {queued}, lost {mail['lost']}, "
        f"duplicated {mail['duplicated']}, stray {mail['stray']}{drained}"
    )

    print()
    rows = []
    for index in range(2):
        before, after, held = (
            result["rss_before"][index],
            result["rss_after"][index],
            result["connected"][index],
        )
        rows.append(
            (
                f"daphne {index}",
                f"{before / 1024:.1f}",
                f"{after / 1024:.1f}",
                str(held),
                f"{(after - before) / max(held, 1):.1f}",
                f"{1000 * result['connect_cpu'][index] / max(held, 1):.1f}",
            )
        )
    common.table(
        (
            "server",
            "RSS before MiB",
            "RSS after MiB",
            "sockets",
            "kB per socket",
            "connect CPU ms per socket",
        ),
        rows,
    )

    print()
    burst_posts = [1000 * p.seconds for p in burst.posts]
    post_p99 = percentile(burst_posts, 0.99) if burst_posts else float("inf")
    burst_values = latencies(burst, logs)
    burst_p99 = percentile(burst_values, 0.99) if burst_values else float("inf")
    steady_values = latencies(steady, logs)
    steady_p99 = percentile(steady_values, 0.99) if steady_values else float("inf")
    print(
        f"budget 1 (issue 10): burst answer POST p99 {post_p99:.0f} ms < 150 ms over "
        f"{len(burst_posts)} answers: {verdict(post_p99 < 150)}"
    )
    print(
        f"budget 2 (issue 10): burst commit -> socket p99 {burst_p99:.0f} ms < 1,000 ms, "
        f"lost {burst.lost}, duplicated or stray {burst.extra}: "
        f"{verdict(burst_p99 < 1000 and not burst.lost and not burst.extra)}"
    )
    print(
        f"budget 3 (SPEC 9): steady commit -> socket p99 {steady_p99:.1f} ms < 100 ms: "
        f"{verdict(steady_p99 < 100)}"
    )
    for client in result["failed"][:5]:
        print(f"failed connect, client {client.index}: {client.failed}", file=sys.stderr)
    for client in result["early"][:5]:
        print(f"closed early, client {client.index}: {client.closed_early}", file=sys.stderr)
    problems = (
        steady.lost
        + burst.lost
        + steady.extra
        + burst.extra
        + len(result["failed"])
        + len(result["early"])
        + result["failed_posts"]
        + mail["lost"]
        + mail["duplicated"]
        + mail["stray"]
    )
    return problems == 0


TRACE_STAGES = (
    ("row insert -> its commit", "created", "stored"),
    ("answer's commit -> push starts", "commit", "push"),
    ("push starts -> unread counts done", "push", "counted"),
    ("counts done -> its group_send starts", "counted", "send_start"),
    ("group_send (its message's)", "send_start", "send_end"),
    ("group_send ends -> consumer handler starts", "send_end", "consumer_start"),
    ("consumer handler (text, send_json)", "consumer_start", "consumer_end"),
    ("handler ends -> client receives", "consumer_end", "received"),
    ("= answer's commit -> client receives", "commit", "received"),
)


def report_trace(result: dict, logs: Logs) -> None:
    """Where the time goes, per notification, from the processes' trace logs."""
    marks = logs.marks
    print()
    print("Trace (--trace): where the time goes, ms per notification")
    print(
        "(steady: the request pushes after its commit; burst: the worker, after the followers' task commits)"
    )
    rows = []
    for case in result["cases"]:
        for pk, created, at, url, _ci in case.samples:
            marks.setdefault(pk, {}).update(created=created, received=at)
            if pk in logs.commits:
                marks[pk]["stored"] = logs.commits[pk]
            if url in logs.actions:
                marks[pk]["commit"] = logs.actions[url]
        for label, first, last in TRACE_STAGES:
            values = [
                1000 * (m[last] - m[first])
                for pk, *_rest in case.samples
                if first in (m := marks[pk]) and last in m
            ]
            rows.append((case.name.split(":")[0], label, str(len(values)), *figures(values)))
    common.table(("case", "stage", "n", "p50", "p95", "p99", "max"), rows)
    steady = result["cases"][0]
    slowest = sorted(
        steady.samples, key=lambda sample: sample[2] - marks[sample[0]].get("commit", sample[1])
    )[-5:]
    print("slowest steady notifications, ms per stage in the order above:")
    for pk, _created, at, *_rest in reversed(slowest):
        m = marks[pk]
        stages = [
            f"{1000 * (m[last] - m[first]):.0f}" if first in m and last in m else "?"
            for _label, first, last in TRACE_STAGES[:-1]
        ]
        total = f"{1000 * (at - m['commit']):.0f}" if "commit" in m else "?"
        print(f"  id {pk}: {total} ms from commit = " + " + ".join(stages[1:]))
    big = [push for push in logs.pushes if len(push["ids"]) > 20]
    if big:
        print(
            "the burst pushes (worker), ms after the push started: unread counts done / last group_send ended / push returned"
        )
        for push in big:
            sent = [marks[pk]["send_end"] for pk in push["ids"] if "send_end" in marks.get(pk, {})]
            print(
                f"  {len(push['ids'])} notifications: {1000 * ((push['counted'] or push['start']) - push['start']):.0f}"
                f" / {1000 * (max(sent) - push['start']):.0f} / {1000 * (push['end'] - push['start']):.0f}"
                if sent
                else f"  {len(push['ids'])} notifications: no group_send logged"
            )


def log_problems(procs: list[Proc]) -> None:
    for proc in procs:
        text = proc.log.read_text(errors="replace")
        lines = [
            line
            for line in text.splitlines()
            if re.search(r"Traceback|ERROR|WARNING|Exception", line)
        ]
        if lines:
            print(
                f"{proc.log.name}: {len(lines)} problem line(s), first: {lines[0][:300]}",
                file=sys.stderr,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument(
        "--commit",
        help="measure this commit (git archive REV, e.g. HEAD) instead of the working tree",
    )
    parser.add_argument(
        "--apply",
        type=Path,
        help="with --commit: apply this diff to the copy (a change not committed yet)",
    )
    parser.add_argument(
        "--clients", type=int, default=1000, help="patients, each with a socket (max 5000)"
    )
    parser.add_argument(
        "--answers", type=int, default=300, help="steady case: answers to distinct askers"
    )
    parser.add_argument("--rate", type=float, default=5.0, help="steady case: answers per second")
    parser.add_argument(
        "--bursts", type=int, default=12, help="burst case: answers to the burst question"
    )
    parser.add_argument(
        "--burst-interval",
        type=float,
        default=3.0,
        help="burst case: seconds from one answer to the next",
    )
    parser.add_argument(
        "--burst-timeout",
        type=float,
        default=30.0,
        help="burst case: wait at most this for one answer's sockets",
    )
    parser.add_argument(
        "--worker-interval",
        type=float,
        default=0.1,
        help="db_worker --interval: its poll when idle, s",
    )
    parser.add_argument(
        "--mail-timeout",
        type=float,
        default=120.0,
        help="wait at most this for every e-mail after the last answer, s",
    )
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="log when each notification passes its push, group_send and the consumer",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs) for inspection"
    )
    args = parser.parse_args()
    args.clients = max(2, min(args.clients, 5000))
    args.answers = max(1, min(args.answers, args.clients))
    args.rate = max(0.1, min(args.rate, 50.0))
    args.bursts = max(1, min(args.bursts, 50))
    args.burst_interval = max(0.0, min(args.burst_interval, 60.0))
    args.mail_timeout = max(1.0, min(args.mail_timeout, 900.0))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.clients * 2 + 256))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    database_url, redis = args.database_url, redis_url(args.redis_db)
    workdir = Path(tempfile.mkdtemp(prefix="shukang-notify-"))
    args.sink_out = workdir / "mail.jsonl"
    procs: list[Proc] = []
    ok = False
    redis_flush(redis, check=True)
    create_database(database_url)
    try:
        smtp_port = common.free_port()
        sink = smtp_sink.start(smtp_port, args.sink_out, workdir / "smtp-sink.log")
        procs.append(Proc("smtp sink", sink, workdir / "smtp-sink.log"))
        env = environment(workdir, database_url, redis, smtp_port)
        print("... copying the project, collectstatic, migrate, seed", file=sys.stderr, flush=True)
        project, code, seed, seed_seconds = prepare(
            workdir, env, args, args.clients, args.answers + args.bursts
        )
        servers = [start_daphne(project, env, workdir, index, args.trace) for index in range(2)]
        procs += servers
        worker = start_worker(project, env, workdir, args.worker_interval, args.trace)
        procs.append(worker)
        print(
            f"... daphne on ports {servers[0].port} and {servers[1].port}, worker pid "
            f"{worker.process.pid}, SMTP sink on port {smtp_port}",
            file=sys.stderr,
            flush=True,
        )
        load_start = Path("/proc/loadavg").read_text().split()[0]
        result = asyncio.run(bench(servers, worker, seed, args))
        result["load"] = (load_start, Path("/proc/loadavg").read_text().split()[0])
        stop(worker)  # lets its current task finish: what is unsent now is still queued
        logs = read_logs(procs)
        mail = check_mail(args.sink_out, result["expected_mail"], unsent_emails(database_url))
        setup = {
            "code": code,
            "database": urlsplit(database_url).scheme,
            "redis": redis,
            "smtp_port": smtp_port,
            "seed_seconds": seed_seconds,
        }
        ok = report(result, logs, mail, args, setup)
        if args.trace:
            report_trace(result, logs)
        log_problems(procs)
    finally:
        for proc in reversed(procs):
            stop(proc)
        with suppress(Exception):
            drop_database(database_url)
        with suppress(Exception):
            redis_flush(redis, check=False)
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not ok:
        sys.exit("something was lost, duplicated or failed: see above")


if __name__ == "__main__":
    main()
