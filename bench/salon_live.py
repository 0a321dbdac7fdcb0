"""Salon live room fan-out: 300 attendees in one room, new questions pushed to all.

Usage (from the repository root, with the project's virtualenv; about a minute):

    .venv/bin/python bench/salon_live.py
    .venv/bin/python bench/salon_live.py --clients 300 --questions 20 --interval 1.0

What it does, all on 127.0.0.1:

1. Makes a temporary folder with a fresh SQLite database (migrated with
   `manage.py migrate`) and flushes Redis database 7
   (redis://127.0.0.1:6379/7, --redis-url), which is this benchmark's own.
2. Seeds, in this process with Django set up on the same database and Redis:
   one organiser and one verified host doctor (accounts.services), --clients
   patients (bulk-created with unusable passwords), one published online
   event live now (salon.services.event_create) and a confirmed place for
   every patient (salon.services.rsvp_create), and a session for each patient
   written as Django's login writes it (user id, backend, auth hash) through
   the configured cached_db store, so the cookie works on the server.
3. Starts one daphne process (config.asgi:application) with production
   settings (DJANGO_DEBUG=false, a throwaway secret key, SSL redirect off)
   and the project's channels-redis layer on the same Redis database.
4. Connects --clients websocket clients (the `websockets` package) to
   /ws/salon/<id>/ with their session cookie and an allowed Origin, at most
   50 handshakes at a time, and checks that none is refused.
5. Asks one unmeasured warm-up question (the web worker compiles its
   templates), then --questions questions, one every --interval seconds,
   each by a different attendee, through salon.services.live_question_create in this
   process, which plays the web worker: the service commits, then its
   on-commit callback renders the fragments and sends one group message
   through Redis; daphne relays it to every socket in the room.

Latency is a client's receive time minus the question's commit time (an
on-commit callback registered before the service's own, same clock, same
process). It therefore includes rendering the fragments (two languages, two
roles), the Redis round trip, daphne's fan-out to 300 sockets and the
client's JSON decoding; the clients, daphne, Redis and this process share the
machine's cores. Lost: every client must receive every question exactly
once; anything missing after a 10-second drain counts as lost.

Bounded in time: the whole run is cut at --timeout seconds (default 300).
The server is stopped by its PID (SIGTERM, then SIGKILL) whatever happens.
Exits non-zero if a question was lost or duplicated or a client was refused.
"""

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CONNECT_CONCURRENCY = 50
DRAIN_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def environment(workdir: Path, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def seed(clients: int) -> dict:
    """Accounts, the live event, places and sessions; Django is set up on the bench database."""
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import account_create
    from salon import services

    organiser = account_create(
        email="organiser@bench.example", password=secrets.token_urlsafe(16), role="moderator"
    )
    host = account_create(
        email="host@bench.example",
        password=secrets.token_urlsafe(16),
        role="doctor",
        verified=True,
        name="Dr. Bench",
    )
    unusable = make_password(None)
    User.objects.bulk_create(
        User(email=f"attendee{n}@bench.example", name=f"Attendee {n}", password=unusable)
        for n in range(clients)
    )
    attendees = list(User.objects.filter(email__startswith="attendee").order_by("pk"))
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, primary=True, verified=True) for user in attendees
    )
    now = timezone.now()
    event = services.event_create(
        organiser=organiser,
        title="Benchmark live room",
        description="Three hundred attendees, one room.",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=3),
        is_online=True,
        online_url="https://meeting.example.com/bench",
        capacity=clients,
        has_waitlist=False,
        state="published",
        hosts=[host],
    )
    for user in attendees:
        services.rsvp_create(event=event, user=user)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for user in attendees:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return {"event": event.pk, "attendees": [user.pk for user in attendees], "cookies": cookies}


class Server:
    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.port = port
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                HOST,
                "-p",
                str(port),
                "config.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer /healthz; see {self.log.name}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class Client:
    def __init__(self, index: int, cookie: str):
        self.index = index
        self.cookie = cookie
        self.received: list[tuple[int, float]] = []
        self.close_code: int | None = None
        self.connected = False


async def run_client(client: Client, url: str, origin: str, gate: asyncio.Semaphore, ready):
    from websockets.asyncio.client import connect

    try:
        async with gate:
            websocket = await connect(
                url,
                origin=origin,
                additional_headers={"Cookie": client.cookie},
                compression=None,
                open_timeout=30,
                ping_interval=None,
                max_queue=None,
            )
        client.connected = True
        ready()
        async with websocket:
            async for raw in websocket:
                at = time.time()
                message = json.loads(raw)
                if message.get("type") == "question":
                    client.received.append((message["id"], at))
            client.close_code = websocket.close_code
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - a failed client is counted, not fatal
        client.close_code = getattr(error, "code", -1)
        ready()


def ask(event_id: int, author_id: int, number: int) -> tuple[int, float, float]:
    """Ask one question as the web worker would; returns its id, commit and sent times."""
    from django.db import close_old_connections, transaction

    from accounts.models import User
    from salon import services
    from salon.models import Event

    committed = {}
    try:
        event = Event.objects.get(pk=event_id)
        author = User.objects.get(pk=author_id)
        with transaction.atomic():
            # Registered first, so it runs before the service's broadcast callback.
            transaction.on_commit(lambda: committed.setdefault("at", time.time()))
            question = services.live_question_create(
                event=event,
                author=author,
                body=f"Benchmark question {number}: does walking help with fatigue?",
            )
        # The service's on-commit broadcast has run: fragments rendered, group message sent.
        committed["sent"] = time.time()
    finally:
        close_old_connections()
    return question.pk, committed["at"], committed["sent"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def bench(args, seeded: dict, server: Server) -> dict:
    url = f"ws://{HOST}:{server.port}/ws/salon/{seeded['event']}/"
    origin = f"http://{HOST}:{server.port}"
    clients = [Client(n, cookie) for n, cookie in enumerate(seeded["cookies"])]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connected = asyncio.Event()
    count = {"ready": 0}

    def ready():
        count["ready"] += 1
        if count["ready"] == len(clients):
            connected.set()

    rss_before = server.rss_mib()
    started = time.monotonic()
    tasks = [asyncio.create_task(run_client(c, url, origin, gate, ready)) for c in clients]
    await asyncio.wait_for(connected.wait(), timeout=120)
    connect_seconds = time.monotonic() - started
    # Refusals (4401/4403) arrive just after the handshake.
    await asyncio.sleep(1.0)
    refused = [c.index for c in clients if not c.connected or c.close_code is not None]
    rss_after = server.rss_mib()

    # One unmeasured question first: the web worker compiles its templates once,
    # as a worker that has served a page already would have.
    await asyncio.to_thread(ask, seeded["event"], seeded["attendees"][-1], -1)
    await asyncio.sleep(args.interval)

    asked: dict[int, float] = {}
    send_ms = []
    cpu_before = server.cpu_seconds()
    for number in range(args.questions):
        # A different author each time: live questions are rate-limited per person.
        author = seeded["attendees"][number % len(seeded["attendees"])]
        question_id, at, sent = await asyncio.to_thread(ask, seeded["event"], author, number)
        asked[question_id] = at
        send_ms.append((sent - at) * 1000)
        await asyncio.sleep(args.interval)

    deadline = time.monotonic() + DRAIN_SECONDS
    expected = len(asked)
    while time.monotonic() < deadline:
        if all(len(c.received) >= expected for c in clients if c.index not in refused):
            break
        await asyncio.sleep(0.1)
    cpu_fanout = server.cpu_seconds() - cpu_before

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies, lost, duplicated, per_question = [], 0, 0, {q: [] for q in asked}
    for client in clients:
        seen: dict[int, int] = {}
        for question_id, at in client.received:
            seen[question_id] = seen.get(question_id, 0) + 1
            if question_id in asked and seen[question_id] == 1:
                latency = (at - asked[question_id]) * 1000
                latencies.append(latency)
                per_question[question_id].append(latency)
        lost += sum(1 for question_id in asked if question_id not in seen)
        duplicated += sum(n - 1 for n in seen.values() if n > 1)
    last_arrivals = [max(values) for values in per_question.values() if values]
    first_arrivals = [min(values) for values in per_question.values() if values]
    return {
        "clients": len(clients),
        "questions": expected,
        "refused": len(refused),
        "connect_seconds": round(connect_seconds, 2),
        "deliveries": len(latencies),
        "expected_deliveries": expected * len(clients),
        "lost": lost,
        "duplicated": duplicated,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies), 1) if latencies else None,
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "last_socket_ms": {
            "p50": round(percentile(last_arrivals, 50), 1),
            "max": round(max(last_arrivals), 1) if last_arrivals else None,
        },
        "commit_to_sent_ms": {
            "p50": round(percentile(send_ms, 50), 1),
            "max": round(max(send_ms), 1) if send_ms else None,
        },
        "first_socket_ms": {
            "p50": round(percentile(first_arrivals, 50), 1),
            "max": round(max(first_arrivals), 1) if first_arrivals else None,
        },
        "server_cpu_ms_per_question": round(cpu_fanout * 1000 / max(expected, 1), 1),
        "server_rss_mib": {"before": round(rss_before, 1), "after_connect": round(rss_after, 1)},
    }


def machine() -> str:
    from importlib.metadata import version

    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Django {version('django')}, channels {version('channels')}, daphne {version('daphne')}, "
        f"channels-redis {version('channels-redis')}, redis-py {version('redis')}, "
        f"websockets {version('websockets')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between questions")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--timeout", type=float, default=300, help="cut the whole run after this")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="salon-live-"))
    env = environment(workdir, args.redis_url)
    redis_flush(args.redis_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=180,
    )
    # This process plays the web worker: same database, same Redis, same settings.
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    started = time.monotonic()
    seeded = seed(args.clients)
    seed_seconds = time.monotonic() - started

    server = Server(env, free_port(), workdir / "daphne.log")
    result = None
    try:
        server.wait_ready()
        result = asyncio.run(asyncio.wait_for(bench(args, seeded, server), timeout=args.timeout))
    finally:
        server.stop()
        redis_flush(args.redis_url)

    result |= {
        "seed_seconds": round(seed_seconds, 1),
        "machine": machine(),
        "log": str(server.log.name),
    }
    print(json.dumps(result, indent=2))
    failed = result["lost"] or result["duplicated"] or result["refused"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
