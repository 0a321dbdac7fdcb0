"""Notification latency: 1,000 signed-in sockets on two daphne processes sharing Redis.

Usage (from the repository root, with the project's virtualenv; about 2 minutes):

    .venv/bin/python bench/notify_latency.py
    .venv/bin/python bench/notify_latency.py --database-url postgres://postgres@127.0.0.1:5432/other_name

SPEC section 9 budgets the latency of a notification, from the commit of the
request that causes it to the asker's browser, at p99 under 100 ms with 1,000
connected clients and two server processes sharing Redis on a 2-core machine.

Like bench/http_servers.py it copies the working tree to a temporary folder
(so collectstatic and the compiled catalogues land there, and concurrent edits
to the repository cannot change the code under test half-way) and runs the
project there with production settings: DJANGO_DEBUG=false, a throwaway
secret key, manifest static storage after collectstatic, SSL redirect off,
DJANGO_ALLOWED_HOSTS=127.0.0.1. E-mail goes to files in the temporary folder
(an "answer" notification also e-mails by default). Everything listens on
127.0.0.1 only.

Database: PostgreSQL at postgres://postgres@127.0.0.1:5432/shukang_bench_notify
by default, created here and dropped at the end (a database named with
--database-url must not exist yet; a sqlite:/// URL to a file that does not
exist yet also works). Redis: REDIS_URL's server (default
redis://127.0.0.1:6379) with database 9 (--redis-db), which must be empty or
hold only this project's keys; it is flushed before and after. Both daphne
processes share that database and that Redis, with the project's own
channels-redis settings.

Seeding (one `manage.py shell -c` script): 1,000 patients (bulk-created, an
unusable password, a confirmed e-mail address) each with one published
question written as forum.services.question_create writes it (slug, rendered
body, search document) plus the Follow row the asker gets; one "burst"
question written the same way and followed by all 1,000 patients; verified
doctors through accounts.services.account_create, enough of them that taking
turns none reaches the per-account answer rate limit (30 an hour on the day:
SHUKANG_RATE_LIMITS["answer"]); and a session for every patient and doctor,
bulk-written as Django's login writes one (user id, backend, session auth
hash) through the configured cached_db store. Questions are bulk-written
because question_create now rate-limits and holds a new account's first post
for moderation; the answers go through the real view and services.

Then, all in one asyncio loop in this process: 1,000 websocket clients (the
`websockets` package) connect to /ws/notifications/ with their session
cookie, patient i on server i % 2, at most --connect-concurrency handshakes at
once, and each waits for its `hello`.

- Steady case: doctors answer --answers distinct patients' questions over
  HTTP (CSRF cookie and token from the question page), alternating servers,
  at --rate answers per second. Each answer notifies exactly one asker, who is
  connected to the same process as the request or to the other one.
- Burst case: one answer to the burst question (posted to --burst-server)
  notifies all 1,000 patients at once.

Latency is the client's receive time minus the notification's `created`
timestamp (same machine, same clock). `created` is set when the row is
inserted, inside the answering transaction, a little before its commit, so
the figure slightly overstates commit-to-browser latency. The clients share
the 2 cores with both servers, PostgreSQL and Redis.

Loss: every answered asker must receive exactly its one notification
(matched by the question in its URL), and nobody else anything. Also reported:
failed connects, sockets closed early, the doctor's POST times, each server's
CPU during each case, and server memory per connection (VmRSS of each daphne
before the clients connect and after all of them have, over the connections
it holds), with the servers' CPU per handshake. Exits non-zero if a message
was lost or duplicated, a client failed to connect, a socket closed early or
an answer was refused.

--trace runs the servers on a small module written into the copy only
(bench_trace.py: config.asgi's application, with notifications.services.
_deliver, RedisChannelLayer.group_send and NotificationConsumer.
notification_created wrapped from outside to log their start and end) and
prints where each notification's time went: insert to commit, commit to its
group_send, the group_send, Redis to the receiving consumer, the consumer, the
socket to the client; and the commit-to-client latency SPEC section 9 names.
The headline figures come from runs without it.
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
from http_servers import HOST  # noqa: E402

PACKAGES = ["django", "daphne", "channels", "channels-redis", "redis", "websockets", "psycopg"]

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/shukang_bench_notify"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
PROJECT_PREFIX = b"shukang"  # the cache's KEY_PREFIX and the channel layer's prefix in settings
QUESTION_IN_URL = re.compile(r"/questions/(\d+)/")

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
# Answers are rate-limited per doctor (core.ratelimit, when present): enough
# verified doctors share the steady answers and the burst answer that none
# reaches the limit.
limit = getattr(settings, "SHUKANG_RATE_LIMITS", {}).get("answer", (10**9, 3600))[0]
doctors = [
    account_create(email=f"doctor{d:02d}@bench.invalid", password="bench-doctor-password-2026",
                   name=f"Dr. Bench {d:02d}", role="doctor", verified=True, specialties=[])
    for d in range(-(-(answers + 1) // limit))
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
        "patients": [[p.pk, k, q.pk, q.get_absolute_url()] for p, k, q in zip(patients, keys, questions)],
        "doctor_sessions": keys[n:],
        "burst": [burst.pk, burst.get_absolute_url()],
    }, out)
"""

# With --trace the servers run this module (written into the private copy
# only) instead of config.asgi: it wraps three functions from outside, without
# changing what they do, and logs when each notification passes them.
TRACE_MODULE = '''"""Added by bench/notify_latency.py --trace to its private copy only."""

import json
import os
import time

from channels_redis.core import RedisChannelLayer

from config.asgi import application  # noqa: F401 - what daphne serves
from notifications import consumers, services

_out = open(os.environ["BENCH_TRACE"], "a", buffering=1)


def _log(**fields):
    _out.write(json.dumps(fields) + "\\n")


_deliver = services._deliver


def _traced_deliver(notifications, *args, **kwargs):
    # Runs from transaction.on_commit: its start is just after the commit.
    started = time.time()
    try:
        return _deliver(notifications, *args, **kwargs)
    finally:
        _log(stage="deliver", ids=[n.pk for n in notifications], start=started, end=time.time())


services._deliver = _traced_deliver

_group_send = RedisChannelLayer.group_send


async def _traced_group_send(self, group, message):
    started = time.time()
    try:
        return await _group_send(self, group, message)
    finally:
        if "id" in message:
            _log(stage="group_send", id=message["id"], start=started, end=time.time())


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


def environment(workdir: Path, database_url: str, redis: str) -> dict[str, str]:
    """http_servers' production-like environment, with this run's database, Redis and mail."""
    env = common.bench_environment(workdir)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(workdir / "mail"),
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
    workdir: Path, env: dict[str, str], patients: int, answers: int, trace: bool
) -> tuple[Path, dict, float]:
    """Copy the project, build catalogues and static files, migrate, seed. Return the copy and the seed."""
    project = workdir / "project"
    shutil.copytree(common.REPO, project, ignore=common.COPY_IGNORE)
    if trace:
        (project / "bench_trace.py").write_text(TRACE_MODULE)
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
    return project, json.loads(out.read_text()), time.monotonic() - started


# Servers


@dataclass
class Daphne:
    port: int
    process: subprocess.Popen
    log: Path

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
) -> Daphne:
    port = common.free_port()
    log = workdir / f"daphne-{index}.log"
    app = "bench_trace:application" if trace else "config.asgi:application"
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", app],
        cwd=project,
        env={**env, "BENCH_TRACE": str(workdir / f"trace-{index}.jsonl")},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Daphne(port, process, log)
    try:
        common.wait_until_serving(port, process)
    except RuntimeError:
        stop_daphne(server)
        raise
    return server


def stop_daphne(server: Daphne) -> None:
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# HTTP as the doctor


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them: a 302 is an answer's success."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(url: str, *, cookie: str, data: dict | None = None) -> tuple[int, list[str], str]:
    headers = {"Cookie": cookie}
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with OPENER.open(request, timeout=60) as response:
            return (
                response.status,
                response.headers.get_all("Set-Cookie") or [],
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        return error.code, [], error.read().decode(errors="replace")


def doctor_csrf(server: Daphne, question_url: str, session: str) -> tuple[str, str]:
    """Open a question page as the doctor: the CSRF cookie and the form's token."""
    status, set_cookies, page = http(server.url + question_url, cookie=f"sessionid={session}")
    if status != 200:
        raise RuntimeError(f"the question page answered {status} to the doctor:\n{page[:2000]}")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("no answer form on the question page: is the doctor verified?")
    cookies = SimpleCookie()
    for header in set_cookies:
        cookies.load(header.split(";", 1)[0])
    return cookies["csrftoken"].value, found.group(1)


@dataclass
class Post:
    server: int
    question: int
    seconds: float = 0.0
    status: int = 0


def post_answer(
    server: Daphne, question_id: int, *, session: str, csrf: tuple[str, str], text: str
) -> tuple[int, float]:
    cookie, token = csrf
    started = time.perf_counter()
    status, _cookies, body = http(
        f"{server.url}/questions/{question_id}/answer/",
        cookie=f"sessionid={session}; csrftoken={cookie}",
        data={"csrfmiddlewaretoken": token, "body": text},
    )
    if status != 302:
        print(f"answer to question {question_id} answered {status}: {body[:500]}", file=sys.stderr)
    return status, time.perf_counter() - started


# Websocket clients


@dataclass
class Client:
    index: int
    user_id: int
    session: str
    question: int
    server: int
    connect_seconds: float = 0.0
    failed: str = ""
    closed_early: str = ""
    messages: list[tuple[float, str]] = field(default_factory=list)
    socket: object = None


async def run_client(
    client: Client, server: Daphne, gate: asyncio.Semaphore, stopping: asyncio.Event
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


def received(clients: list[Client], start: list[int]) -> dict[int, list[tuple[float, dict]]]:
    """Per client index, the notifications received since the marks in ``start``."""
    found = {}
    for client in clients:
        found[client.index] = [
            (at, message)
            for at, raw in client.messages[start[client.index] :]
            if (message := json.loads(raw)).get("type") == "notification"
        ]
    return found


@dataclass
class Case:
    name: str
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    extra: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    samples: list[tuple[int, float, float]] = field(default_factory=list)  # id, created, received
    cpu: list[float] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)
    wall: float = 0.0
    pressure: float | None = None  # share of the wall time some task waited for a CPU
    lag_ms: list[float] = field(default_factory=list)  # this loop's wake-up delays


def judge(
    case: Case,
    clients: list[Client],
    start: list[int],
    expect: dict[int, int],
    posted_on: dict[int, int],
) -> None:
    """Compare what arrived with ``expect`` (client index -> question id)."""
    got = received(clients, start)
    case.expected = len(expect)
    for client in clients:
        messages = got[client.index]
        wanted = expect.get(client.index)
        mine = [(at, m) for at, m in messages if wanted is not None and _question_of(m) == wanted]
        case.extra += len(messages) - min(len(mine), 1)
        if wanted is None:
            continue
        if not mine:
            case.lost += 1
            continue
        case.delivered += 1
        at, message = mine[0]
        created = datetime.fromisoformat(message["created"]).timestamp()
        latency = 1000 * (at - created)
        case.latencies_ms.append(latency)
        case.samples.append((message["id"], created, at))
        route = "same process" if posted_on[client.index] == client.server else "other process"
        case.by_route.setdefault(route, []).append(latency)


def _question_of(message: dict) -> int | None:
    found = QUESTION_IN_URL.search(message.get("url", ""))
    return int(found.group(1)) if found else None


async def wait_for(
    clients: list[Client], start: list[int], expect: dict[int, int], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = sum(1 for index in expect if len(clients[index].messages) <= start[index])
        if not missing:
            return
        await asyncio.sleep(0.05)


def cpu_pressure() -> float | None:
    """Seconds during which some task waited for a CPU (Linux PSI), or None without PSI."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(line.rsplit("total=", 1)[1]) / 1e6


@dataclass
class Window:
    """What the machine did during one case: CPU pressure and this loop's lag."""

    lags: list[tuple[float, float]]
    started: float = 0.0
    pressure: float | None = None

    def open(self) -> None:
        self.started, self.pressure = time.monotonic(), cpu_pressure()

    def close(self, case: Case) -> None:
        now, pressure = time.monotonic(), cpu_pressure()
        if pressure is not None and self.pressure is not None:
            case.pressure = (pressure - self.pressure) / (now - self.started)
        case.lag_ms = [lag for at, lag in self.lags if at >= self.started]


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


async def bench(servers: list[Daphne], seed: dict, args: argparse.Namespace) -> dict:
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
        Client(i, user_id, key, question, i % 2)
        for i, (user_id, key, question, _url) in enumerate(patients)
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

    async def answer(n: int, server: int, question: int) -> Post:
        """The n-th answer of the run; doctors take turns so none reaches the rate limit."""
        post = Post(server, question)
        d = n % len(doctors)
        post.status, post.seconds = await loop.run_in_executor(
            executor,
            lambda: post_answer(
                servers[server], question, session=doctors[d], csrf=csrf[d, server], text=text
            ),
        )
        return post

    # Steady case: answers to distinct askers, alternating servers, at a modest rate.
    lags: list[tuple[float, float]] = []
    watcher = asyncio.create_task(watch_lag(lags, stopping))
    window = Window(lags)
    rng = random.Random(20261126)
    answered = rng.sample([c for c in connected], min(args.answers, len(connected)))
    steady = Case(f"steady: {len(answered)} answers at {args.rate:g}/s, 1 asker each")
    start = [len(c.messages) for c in clients]
    cpu = [server.cpu_seconds() for server in servers]
    window.open()
    t0 = time.perf_counter()
    pending, posted_on = [], {}
    for n, client in enumerate(answered):
        await asyncio.sleep(max(0.0, t0 + n / args.rate - time.perf_counter()))
        posted_on[client.index] = n % 2
        pending.append(asyncio.create_task(answer(n, n % 2, client.question)))
    posts = await asyncio.gather(*pending)
    await wait_for(clients, start, {c.index: c.question for c in answered}, timeout=10)
    steady.wall = time.perf_counter() - t0
    window.close(steady)
    steady.cpu = [
        server.cpu_seconds() - before for server, before in zip(servers, cpu, strict=True)
    ]
    steady.posts = [p.seconds * 1000 for p in posts]
    failed_posts = sum(1 for p in posts if p.status != 302)
    await asyncio.sleep(1)  # anything late or stray is counted as extra
    judge(steady, clients, start, {c.index: c.question for c in answered}, posted_on)

    # Burst case: one answer notifies every patient at once.
    burst_question = seed["burst"][0]
    burst = Case(f"burst: 1 answer, {len(connected)} followers")
    start = [len(c.messages) for c in clients]
    cpu = [server.cpu_seconds() for server in servers]
    window.open()
    t0 = time.perf_counter()
    post = await answer(len(answered), args.burst_server, burst_question)
    failed_posts += post.status != 302
    await wait_for(clients, start, {c.index: burst_question for c in connected}, timeout=30)
    burst.wall = time.perf_counter() - t0
    window.close(burst)
    burst.cpu = [server.cpu_seconds() - before for server, before in zip(servers, cpu, strict=True)]
    burst.posts = [post.seconds * 1000]
    await asyncio.sleep(1)
    judge(
        burst,
        clients,
        start,
        {c.index: burst_question for c in connected},
        {c.index: args.burst_server for c in connected},
    )

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
        "failed_posts": failed_posts,
        "doctors": len(doctors),
    }


# Report


def figures(values: list[float]) -> tuple[str, str, str, str]:
    if not values:
        return ("-",) * 4
    return tuple(f"{percentile(values, q):.1f}" for q in (0.50, 0.95, 0.99)) + (
        f"{max(values):.1f}",
    )


def report(
    result: dict, args: argparse.Namespace, database_url: str, redis: str, seed_seconds: float
) -> bool:
    steady, burst = result["cases"]
    print(f"machine: {common.machine(PACKAGES)}")
    print(
        f"load average (1 min) at start {result['load'][0]}, at end {result['load'][1]}: other work shares the 2 cores"
    )
    print(
        f"setup: 2 daphne processes (DJANGO_DEBUG=false), {urlsplit(database_url).scheme}, "
        f"channels-redis on {redis}; seeding took {seed_seconds:.1f} s; {result['doctors']} doctors "
        "take turns answering (per-account answer rate limit)"
    )
    print(
        f"clients: {len(result['clients'])} asked, {sum(result['connected'])} connected "
        f"({result['connected'][0]} + {result['connected'][1]}) in {result['connect_wall']:.1f} s "
        f"(at most {args.connect_concurrency} handshakes at once; handshake+hello p50 "
        f"{percentile(result['connect_ms'], 0.5):.0f} ms, p99 {percentile(result['connect_ms'], 0.99):.0f} ms); "
        f"failed connects {len(result['failed'])}, closed early {len(result['early'])}"
    )
    print()
    print(
        "Latency: client receive time - notification 'created' (row insert, just before the commit), ms"
    )
    rows = []
    for case in (steady, burst):
        rows.append(
            (
                case.name,
                str(case.expected),
                str(case.delivered),
                str(case.lost),
                str(case.extra),
                *figures(case.latencies_ms),
            )
        )
        if case is steady:
            for route in ("same process", "other process"):
                values = case.by_route.get(route, [])
                rows.append(
                    (
                        f"  of which asker on the {route}",
                        str(len(values)),
                        str(len(values)),
                        "",
                        "",
                        *figures(values),
                    )
                )
    common.table(
        ("case", "expected", "delivered", "lost", "extra", "p50", "p95", "p99", "max"), rows
    )
    print()
    rows = []
    for case in (steady, burst):
        rows.append(
            (
                case.name,
                f"{case.wall:.1f}",
                *(f"{c:.1f}" for c in case.cpu),
                f"{statistics.median(case.posts):.0f}",
                f"{max(case.posts):.0f}",
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
            "POST p50 ms",
            "POST max ms",
            "CPU stall %",
            "client lag ms",
        ),
        rows,
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
    p99 = percentile(steady.latencies_ms, 0.99) if steady.latencies_ms else float("inf")
    print(
        f"budget (SPEC 9): steady p99 {p99:.1f} ms {'<' if p99 < 100 else '>='} 100 ms: "
        f"{'met' if p99 < 100 else 'MISSED'}"
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
    )
    return problems == 0


TRACE_STAGES = (
    ("row insert -> on_commit push starts", "created", "deliver"),
    ("push starts -> its group_send starts", "deliver", "send_start"),
    ("group_send (4 Redis round trips)", "send_start", "send_end"),
    ("group_send ends -> consumer handler starts", "send_end", "consumer_start"),
    ("consumer handler (text, send_json)", "consumer_start", "consumer_end"),
    ("handler ends -> client receives", "consumer_end", "received"),
    ("= on_commit push starts -> client receives", "deliver", "received"),
)


def report_trace(result: dict, workdir: Path) -> None:
    """Where the time goes, per notification, from the servers' trace logs."""
    marks: dict[int, dict[str, float]] = {}
    pushes, delivers = [], []
    for path in sorted(workdir.glob("trace-*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["stage"] == "deliver":
                pushes.append(1000 * (entry["end"] - entry["start"]))
                delivers.append(entry)
                for pk in entry["ids"]:
                    marks.setdefault(pk, {})["deliver"] = entry["start"]
            elif entry["stage"] == "group_send":
                marks.setdefault(entry["id"], {}).update(
                    send_start=entry["start"], send_end=entry["end"]
                )
            else:
                marks.setdefault(entry["id"], {}).update(
                    consumer_start=entry["start"], consumer_end=entry["end"]
                )
    print()
    print("Trace (--trace): where the time goes, ms per notification")
    rows = []
    for case in result["cases"]:
        for pk, created, at in case.samples:
            marks.setdefault(pk, {}).update(created=created, received=at)
        for label, first, last in TRACE_STAGES:
            values = [
                1000 * (m[last] - m[first])
                for pk, _c, _a in case.samples
                if first in (m := marks[pk]) and last in m
            ]
            rows.append((case.name.split(":")[0], label, str(len(values)), *figures(values)))
    common.table(("case", "stage", "n", "p50", "p95", "p99", "max"), rows)
    steady = result["cases"][0]
    slowest = sorted(steady.samples, key=lambda sample: sample[2] - sample[1])[-5:]
    print("slowest steady notifications, ms per stage in the order above:")
    for pk, created, at in reversed(slowest):
        m = marks[pk]
        stages = [
            f"{1000 * (m[last] - m[first]):.0f}" if first in m and last in m else "?"
            for _label, first, last in TRACE_STAGES[:-1]
        ]
        print(f"  id {pk}: {1000 * (at - created):.0f} ms = " + " + ".join(stages))
    if pushes:
        print(
            f"whole on_commit push per answer (unread counts, every group_send, then the e-mails): "
            f"p50 {percentile(pushes, 0.5):.1f} ms, max {max(pushes):.1f} ms over {len(pushes)} pushes"
        )
        biggest = max(delivers, key=lambda entry: len(entry["ids"]))
        sent = [marks[pk]["send_end"] for pk in biggest["ids"] if "send_end" in marks.get(pk, {})]
        if sent:
            print(
                f"the largest push ({len(biggest['ids'])} notifications): "
                f"{1000 * (max(sent) - biggest['start']):.0f} ms until its last group_send ended, "
                f"then {1000 * (biggest['end'] - max(sent)):.0f} ms more (the e-mails) in the request"
            )


def server_log_problems(servers: list[Daphne]) -> None:
    for server in servers:
        text = server.log.read_text(errors="replace")
        lines = [
            line
            for line in text.splitlines()
            if re.search(r"Traceback|ERROR|WARNING|Exception", line)
        ]
        if lines:
            print(
                f"{server.log.name}: {len(lines)} problem line(s), first: {lines[0][:300]}",
                file=sys.stderr,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument(
        "--clients", type=int, default=1000, help="patients, each with a socket (max 5000)"
    )
    parser.add_argument(
        "--answers", type=int, default=300, help="steady case: answers to distinct askers"
    )
    parser.add_argument("--rate", type=float, default=5.0, help="steady case: answers per second")
    parser.add_argument("--burst-server", type=int, choices=(0, 1), default=0)
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument(
        "--trace",
        action="store_true",
        help="log when each notification passes commit, group_send and the consumer",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs) for inspection"
    )
    args = parser.parse_args()
    args.clients = max(2, min(args.clients, 5000))
    args.answers = max(1, min(args.answers, args.clients))
    args.rate = max(0.1, min(args.rate, 50.0))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.clients * 2 + 256))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    database_url, redis = args.database_url, redis_url(args.redis_db)
    workdir = Path(tempfile.mkdtemp(prefix="shukang-notify-"))
    servers: list[Daphne] = []
    ok = False
    redis_flush(redis, check=True)
    create_database(database_url)
    try:
        env = environment(workdir, database_url, redis)
        print("... copying the project, collectstatic, migrate, seed", file=sys.stderr, flush=True)
        project, seed, seed_seconds = prepare(workdir, env, args.clients, args.answers, args.trace)
        for index in range(2):
            servers.append(start_daphne(project, env, workdir, index, args.trace))
        print(
            f"... daphne on ports {servers[0].port} and {servers[1].port}",
            file=sys.stderr,
            flush=True,
        )
        load_start = Path("/proc/loadavg").read_text().split()[0]
        result = asyncio.run(bench(servers, seed, args))
        result["load"] = (load_start, Path("/proc/loadavg").read_text().split()[0])
        ok = report(result, args, database_url, redis, seed_seconds)
        if args.trace:
            report_trace(result, workdir)
        server_log_problems(servers)
    finally:
        for server in servers:
            stop_daphne(server)
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
