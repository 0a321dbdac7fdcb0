"""Serve the forum's pages beside a bare Django template view and compare them.

Usage (from the repository root, with the project's virtualenv; about 4
minutes each):

    .venv/bin/python bench/forum_http.py [--commit HEAD]
    .venv/bin/python bench/forum_http.py --database-url postgres://postgres@127.0.0.1:5432/shukang_bench_forum
    .venv/bin/python bench/forum_http.py --redis-url redis://127.0.0.1:6379/13 [--database-url ...]
    .venv/bin/python bench/forum_http.py --database-url ... --redis-url ... --servers gunicorn --writer

SPEC section 9 budgets the question list at no less than half the requests
per second of a bare Django template view on the same server and machine.
This measures that on a forum of realistic size.

Like bench/http_servers.py (whose helpers it uses), it copies the working tree
to a temporary folder and runs the project there with production settings
(DJANGO_DEBUG=false, a throwaway secret key, manifest static storage after
collectstatic, compiled catalogues, SSL redirect off, DJANGO_ALLOWED_HOSTS=
127.0.0.1). In that copy only, it adds the bare view: bench_bare.py renders
templates/bench_bare.html (a title and a paragraph, no base template) with
django.shortcuts.render, routed at /bench/bare/ by lines appended to the
copy's config/urls.py; the request still passes the project's whole
middleware stack. The repository itself is never written to.

The database is fresh: SQLite in the copy by default, or the PostgreSQL
database named by --database-url, which this script creates (it refuses one
that exists) and drops at the end. The cache is Django's local memory, one per
server process, unless --redis-url names an empty Redis database: then the
cache (and the channel layer) live there as in production, and the project's
keys are deleted at the end. After migrate, bench/forum_seed.py writes
10,000 questions with answers, replies, thanks and tags through the ORM (see
its docstring). On PostgreSQL it then runs VACUUM ANALYZE, as autovacuum would.

Servers, one at a time on 127.0.0.1 and stopped by PID: gunicorn with 2 sync
workers (WSGI, how production serves pages) and daphne in one process (ASGI)
with persistent database connections off (see SERVER_ENV below).
Pages: the bare view, the home page, the question list (first page, and
page 50), the question page with the most recent question of 5 or more answers and 3 or
more replies (its canonical URL, checked to answer 200 without a redirect),
and a search for a word found in many questions; with wrk, the home page,
list, question page and search again for a signed-in patient who has
written nothing (their session cookie), and the home and question page for a
verified physician who has written nothing either and for a moderator. Load from wrk (or the
threaded Python client of http_servers.py without it). Per page: requests per
second and server CPU per request (user + system time of the server's process
tree over requests served; on PostgreSQL the database's own CPU is not in
it, on SQLite it is), each the median of --rounds runs after a warm-up; then
each page's ratio to the bare view in both. wrk's timeout is raised to 30 s
so that slow pages are measured rather than counted as errors.

--writer measures every page but the bare view a second time while
bench/forum_writer.py edits an answer of the measured question once a
second (through the service, so the forum's version moves on and every
cached page is rendered again), and reports each page's req/s with the
writer over its read-only req/s. --servers gunicorn runs one server only.

--profile N also profiles N requests to /questions/ in process, for a visitor
and for a signed-in patient (see bench/forum_profile.py); --profile-only
skips the servers. --commit REV measures a commit instead of the working tree
(bench/ still comes from the working tree); the report's first line says
which code ran.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from functools import partial
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_servers as common  # noqa: E402  (bench/ is not a package)
from http_servers import HOST, Sample  # noqa: E402

PACKAGES = ["django", "gunicorn", "daphne", "psycopg"]  # named in the report
SERVERS = ("gunicorn", "daphne")  # http_servers.servers() argv[2]
WRK_TIMEOUT = 30  # seconds
# A page whose single request takes longer than this is measured one request
# at a time instead of under load (see run_server).
SLOW_SECONDS = 0.25
# Django runs each ASGI request's sync code on a thread of its own, so a
# persistent connection (the settings keep PostgreSQL's for 60 s) is left open
# with that thread: under this load daphne exhausted PostgreSQL's 100
# connections ("too many clients already") within seconds. Django's
# documentation says to disable persistent connections under ASGI; daphne
# runs so here. SQLite's are always off in the settings.
SERVER_ENV = {"daphne": {"DATABASE_CONN_MAX_AGE": "0"}}

BARE_VIEW = '''"""Added by bench/forum_http.py to its private copy only: a bare template view."""

from django.shortcuts import render


def bare(request):
    return render(request, "bench_bare.html", {"title": "Shu-Kang", "message": "A bare template view."})
'''

BARE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><p>{{ message }}</p></body>
</html>
"""

URLS_APPENDIX = """

# Added by bench/forum_http.py to its private copy only.
from django.urls import path as _bench_path  # noqa: E402

from bench_bare import bare as _bench_bare  # noqa: E402

urlpatterns += [_bench_path("bench/bare/", _bench_bare, name="bench-bare")]
"""


def create_database(url: str) -> None:
    conn, name = common.postgres_admin(url)
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(f"database {name} already exists: name one this script may create and drop")
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    conn, name = common.postgres_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_database(url: str):
    """The Redis database named by url, which must be local and empty."""
    import redis

    client = redis.Redis.from_url(url)
    host = client.connection_pool.connection_kwargs.get("host")
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("--redis-url must point at a local server")
    if client.dbsize():
        sys.exit(f"{url} is not empty: name a Redis database nobody else uses, e.g. .../13")
    return client


def clear_redis(client) -> None:
    """Delete what the project wrote (its cache and channel keys start with shukang)."""
    keys = list(client.scan_iter("shukang*"))
    if keys:
        client.delete(*keys)


def manage(project: Path, env: dict[str, str], *command: str, timeout: int = 180) -> str:
    result = subprocess.run(
        [sys.executable, *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        print(result.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}")
    return result.stdout


def prepare(
    workdir: Path,
    env: dict[str, str],
    questions: int,
    commit: str | None,
    *,
    seed_timeout: int = 180,
) -> tuple[Path, dict]:
    """Copy the project, add the bare view, build static files, migrate and seed.

    Return the copy and what the seeding wrote.
    """
    project = workdir / "project"
    code = common.copy_project(
        project, commit, scripts=("forum_seed.py", "forum_profile.py", "forum_writer.py")
    )
    (project / "bench_bare.py").write_text(BARE_VIEW)
    (project / "templates" / "bench_bare.html").write_text(BARE_TEMPLATE)
    with (project / "config" / "urls.py").open("a") as urls:
        urls.write(URLS_APPENDIX)
    for command in (
        ["compiletranslations"],
        ["collectstatic", "--noinput", "-v0"],
        ["migrate", "--noinput", "-v0"],
    ):
        manage(project, env, "manage.py", *command)
    started = time.monotonic()
    seeded = json.loads(
        manage(
            project, env, "bench/forum_seed.py", "--questions", str(questions), timeout=seed_timeout
        ).splitlines()[-1]
    )
    seeded["seed_wall_seconds"] = round(time.monotonic() - started, 1)
    seeded["code"] = code
    return project, seeded


MEMBER_SESSION = """
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils.crypto import get_random_string
from accounts.services import account_create
member = account_create(
    email="ROLE@bench.example",
    password="a-bench-passphrase-2026",
    name="Bench ROLE",
    role="ROLE",
    verified="ROLE" == "doctor",
)
client = Client()
client.force_login(member)
csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
print(
    f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
    f"{settings.CSRF_COOKIE_NAME}={csrf}"
)
"""


def member_cookie(project: Path, env: dict[str, str], role: str = "patient") -> str:
    """A signed-in patient (or ``role``) with no post anywhere: the Cookie header of their browser.

    Their session, and the CSRF cookie a browser holds from its first page
    with a form: without it every page would make a new secret and set it.
    """
    code = MEMBER_SESSION.replace("ROLE", role)
    return manage(project, env, "manage.py", "shell", "-c", code).strip().splitlines()[-1]


def check_page(port: int, path: str, cookie: str = "") -> int:
    """GET path once without following redirects; fail unless it is a 200. Return its size."""
    conn = HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(
            f"{path} answered {response.status} {response.getheader('Location') or ''}"
        )
    return len(body)


def measure_sequential(
    port: int, path: str, pids: list[int], seconds: float, cookie: str = ""
) -> Sample:
    """One request at a time for about ``seconds``: for pages too slow to load."""
    cpu_before = common.cpu_seconds(pids)
    started = time.monotonic()
    latencies = []
    while not latencies or time.monotonic() - started < seconds:
        began = time.perf_counter()
        check_page(port, path, cookie)
        latencies.append(1000 * (time.perf_counter() - began))
    return Sample(
        len(latencies),
        time.monotonic() - started,
        0,
        common.cpu_seconds(pids) - cpu_before,
        statistics.median(latencies),
        max(latencies),
    )


def run_server(
    server, project, env, port, paths, load, args, log_dir, *, question: int
) -> dict[str, tuple[list[Sample], int, bool]]:
    """Start one server, load every path in turn, stop it by PID.

    With --writer, every page but the bare view is measured again while
    bench/forum_writer.py edits an answer of ``question`` once a second
    (label "... +writer").
    """
    log_path = log_dir / f"{server.argv[2]}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        server.argv,
        cwd=project,
        env=env | SERVER_ENV.get(server.argv[2], {}),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pids = [process.pid]
    try:
        common.wait_until_serving(port, process)
        time.sleep(1)  # gunicorn forks its workers after binding
        pids = common.process_tree(process.pid)
        results = {}
        for label, path, cookie in paths:
            size = check_page(port, path, cookie)
            for _ in range(3):  # every worker fills its own cache first
                check_page(port, path, cookie)
            began = time.perf_counter()
            check_page(port, path, cookie)
            if time.perf_counter() - began > SLOW_SECONDS:
                # Requests left queued when a wrk run ends are still served
                # and would swallow the next runs; measure one at a time.
                samples = [
                    measure_sequential(port, path, pids, args.duration, cookie)
                    for _ in range(args.rounds)
                ]
                results[label] = (samples, size, True)
                continue
            url = f"http://{HOST}:{port}{path}"
            loading = partial(load, cookie=cookie) if cookie else load
            loading(url, args.warmup, args.connections)
            if not args.writer or label == "bare":
                samples = [
                    common.measure(loading, url, pids, args.duration, args.connections)
                    for _ in range(args.rounds)
                ]
                results[label] = (samples, size, False)
                continue
            # Read-only and written-to rounds alternate, so that the machine's
            # own ups and downs fall on both alike.
            alone, written = [], []
            with writing(project, env, question) as writer:
                for _ in range(args.rounds):
                    alone.append(
                        common.measure(loading, url, pids, args.duration, args.connections)
                    )
                    with writer():
                        written.append(
                            common.measure(loading, url, pids, args.duration, args.connections)
                        )
            results[label] = (alone, size, False)
            results[f"{label} +writer"] = (written, size, False)
        if args.writer:  # the bare view again: the ratios use both its runs
            url = f"http://{HOST}:{port}{paths[0][1]}"
            results["bare again"] = (
                [
                    common.measure(load, url, pids, args.duration, args.connections)
                    for _ in range(args.rounds)
                ],
                results["bare"][1],
                False,
            )
        return results
    except RuntimeError:
        log.flush()
        print(f"--- last lines of the {server.argv[2]} log:", file=sys.stderr)
        print("\n".join(log_path.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
        raise
    finally:
        common.stop(process, pids)
        log.close()


@contextmanager
def writing(project: Path, env: dict[str, str], question: int):
    """bench/forum_writer.py, paused but inside ``with writer():`` (one write a second there)."""
    writer = subprocess.Popen(
        [sys.executable, "bench/forum_writer.py", str(question)],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    @contextmanager
    def resumed():
        writer.send_signal(signal.SIGCONT)
        time.sleep(0.3)  # the first write and its commit
        try:
            yield
        finally:
            writer.send_signal(signal.SIGSTOP)

    try:
        time.sleep(2)  # django.setup() and the first write
        if writer.poll() is not None:
            raise RuntimeError(f"bench/forum_writer.py stopped: {writer.stderr.read()[-2000:]}")
        writer.send_signal(signal.SIGSTOP)
        yield resumed
    finally:
        writer.send_signal(signal.SIGCONT)
        writer.terminate()
        out, err = writer.communicate(timeout=30)
    done = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    if done.get("writes", 0) < 2:
        raise RuntimeError(f"bench/forum_writer.py wrote {done}: {err[-2000:]}")


def load_wrk(
    url: str, seconds: int, connections: int, cookie: str = ""
) -> tuple[int, float, int, float, float]:
    """http_servers.load_wrk with a longer timeout than wrk's 2 s.

    A slow page (search on PostgreSQL takes over a second per request here)
    would otherwise count only timeouts; with 16 connections queued on two
    workers, a request waits for the eight before it.
    """
    result = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={WRK_TIMEOUT}s",
            *(["-H", f"Cookie: {cookie}"] if cookie else []),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + WRK_TIMEOUT + 30,
    )
    out = result.stdout
    found = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    requests, elapsed = int(found.group(1)), common.parse_wrk_ms(found.group(2)) / 1000
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    if not requests:
        return 0, elapsed, errors, float("nan"), float("nan")
    p50 = common.parse_wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = common.parse_wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return requests, elapsed, errors, p50, p99


def median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(sample, attribute) for sample in samples)


def rate(rps: float) -> str:
    return f"{rps:.0f}" if rps >= 10 else f"{rps:.1f}"


def ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="postgres://user@127.0.0.1:5432/NAME; NAME is created and dropped"
    )
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--python-client", action="store_true", help="ignore wrk even if installed")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile N requests to /questions/, visitor and signed in",
    )
    parser.add_argument("--profile-only", action="store_true", help="profile, skip the servers")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="which servers to run, comma-separated (default: gunicorn,daphne)",
    )
    parser.add_argument(
        "--writer",
        action="store_true",
        help="measure every page again while bench/forum_writer.py writes once a second",
    )
    parser.add_argument(
        "--redis-url",
        help="redis://127.0.0.1:6379/N, an empty database: cache (and channel layer) in "
        "Redis as in production; the project's keys are deleted at the end",
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure this commit (git archive REV, e.g. HEAD) instead of the working tree",
    )
    args = parser.parse_args()
    if args.profile_only and not args.profile:
        args.profile = 50

    load = load_wrk if shutil.which("wrk") and not args.python_client else common.load_python
    redis_client = redis_database(args.redis_url) if args.redis_url else None
    if args.database_url:
        create_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="shukang-forum-bench-"))
    env = common.bench_environment(workdir)
    env.pop("DATABASE_CONN_MAX_AGE", None)  # the settings' default, as in production
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    results: list[tuple[str, str, int, list[Sample], bool]] = []
    try:
        print("... copying, migrating and seeding", file=sys.stderr, flush=True)
        project, seeded = prepare(workdir, env, args.questions, args.commit)
        print(f"... seeded: {json.dumps(seeded, ensure_ascii=False)}", file=sys.stderr, flush=True)
        paths = {
            "bare": "/bench/bare/",
            "home": "/",
            "list": "/questions/",
            "list p50": "/questions/?page=50",
            "question": seeded["question_url"],
            "search": f"/search/?q={quote(seeded['search_word'])}",
        }
        # The same pages for a signed-in patient (wrk sends their session cookie).
        cookie = member_cookie(project, env) if load is load_wrk else ""
        pages = [(label, path, "") for label, path in paths.items()]
        if cookie:
            pages += [
                (f"member {label}", paths[label], cookie)
                for label in ("home", "list", "question", "search")
            ]
            physician = member_cookie(project, env, "doctor")
            pages += [
                (f"physician {label}", paths[label], physician) for label in ("home", "question")
            ]
            moderator = member_cookie(project, env, "moderator")
            pages += [
                (f"moderator {label}", paths[label], moderator) for label in ("home", "question")
            ]
        if args.profile:
            print("... profiling /questions/", file=sys.stderr, flush=True)
            profile = "\n".join(
                manage(
                    project,
                    env,
                    "bench/forum_profile.py",
                    "/questions/",
                    "--requests",
                    str(args.profile),
                    *who,
                )
                # A visitor (served from the list cache where there is one), then
                # a signed-in patient, whose list is rendered on every request.
                for who in ([], ["--signed-in", "patient0@bench.example"])
            )
        if not args.profile_only:
            port = common.free_port()
            for server in common.servers(port):
                if server.argv[2] not in args.servers.split(","):
                    continue
                print(f"... {server.name}", file=sys.stderr, flush=True)
                question = int(re.match(r"/questions/(\d+)/", seeded["question_url"])[1])
                measured = run_server(
                    server, project, env, port, pages, load, args, workdir, question=question
                )
                for label, (samples, size, sequential) in measured.items():
                    results.append((server.name, label, size, samples, sequential))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database_url:
            drop_database(args.database_url)
        if redis_client is not None:
            clear_redis(redis_client)

    database = "PostgreSQL" if args.database_url else "SQLite"
    cache = f"Redis ({args.redis_url})" if args.redis_url else "local memory, per process"
    print(f"code: {seeded['code']}")
    print(
        f"machine: {common.machine(PACKAGES)}; load: {'wrk' if load is load_wrk else 'python threads'}"
    )
    print(
        f"database: {database}, {seeded['questions']} questions, {seeded['answers']} answers, "
        f"{seeded['replies']} replies, {seeded['thanks']} thanks, {seeded['unanswered']} unanswered "
        f"(seeded in {seeded['seed_wall_seconds']} s); cache: {cache}"
    )
    print(
        f"pages: bare = {paths['bare']}; home = {paths['home']}; list = {paths['list']}; "
        f"list p50 = {paths['list p50']}; "
        f"question = {paths['question']} ({seeded['question_answers']} answers, "
        f"{seeded['question_replies']} replies); search = {paths['search']} "
        f"('{seeded['search_word']}', {seeded['search_hits']} matching questions)"
    )
    if args.profile:
        print()
        print(profile.rstrip())
    if args.profile_only:
        return
    print(
        "server environment beyond the shared one: "
        + "; ".join(
            f"{key}: " + " ".join(f"{name}={value}" for name, value in extra.items())
            for key, extra in SERVER_ENV.items()
        )
    )
    print(
        f"load: {args.connections} connections, {args.rounds} x {args.duration} s per page after "
        f"{args.warmup} s warm-up; medians; whole run {time.monotonic() - started:.0f} s; "
        f"1-minute load average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end "
        "(other work on the machine shows here)"
    )
    print()
    common.table(
        ("server", "page", "bytes", "req/s", "CPU ms/req", "p50 ms", "p99 ms", "errors"),
        [
            (
                name,
                label,
                str(size),
                rate(median(samples, "rps")) + (" (one at a time)" if sequential else ""),
                f"{median(samples, 'cpu_ms_per_request'):.2f}",
                f"{median(samples, 'p50_ms'):.0f}",
                f"{median(samples, 'p99_ms'):.0f}",
                str(sum(sample.errors for sample in samples)),
            )
            for name, label, size, samples, sequential in results
        ],
    )
    if any(sequential for *_, sequential in results):
        print(
            f"one at a time: a single request took over {SLOW_SECONDS} s, so the page was "
            "requested by one client, one request after another; p99 is then the maximum."
        )
    print()
    ratio_rows, verdicts = [], []
    for name in dict.fromkeys(name for name, *_ in results):
        mine = {label: samples for server, label, _size, samples, _seq in results if server == name}
        alone = {
            label for server, label, *_, sequential in results if server == name and sequential
        }
        bares = [mine[label] for label in ("bare", "bare again") if label in mine]
        bare_rps = statistics.mean(median(samples, "rps") for samples in bares)
        bare_cpu = statistics.mean(median(samples, "cpu_ms_per_request") for samples in bares)
        for label in [label for label in mine if label not in ("bare", "bare again")]:
            ratio_rows.append(
                (
                    name,
                    f"{label} / bare",
                    "n/a"
                    if {label, "bare"} & alone
                    else ratio(median(mine[label], "rps") / bare_rps),
                    ratio(bare_cpu / median(mine[label], "cpu_ms_per_request")),
                )
            )
        for label in [label for label in mine if label.endswith(" +writer")]:
            alone_label = label.removesuffix(" +writer")
            ratio_rows.append(
                (
                    name,
                    f"{label} / {alone_label}",
                    ratio(median(mine[label], "rps") / median(mine[alone_label], "rps")),
                    ratio(
                        median(mine[alone_label], "cpu_ms_per_request")
                        / median(mine[label], "cpu_ms_per_request")
                    ),
                )
            )
        for label in (
            "member list",
            "member question",
            "physician home",
            "physician question",
            "moderator home",
            "moderator question",
        ):
            if label not in mine:
                continue
            page_ratio = median(mine[label], "rps") / bare_rps
            cpu = median(mine[label], "cpu_ms_per_request")
            met = page_ratio >= 0.4 and cpu <= 2.0
            verdicts.append(
                f"{name}: the {label} page serves {page_ratio:.2f} x the bare view's req/s at "
                f"{cpu:.2f} ms CPU: issue 16's target (>= 0.40, <= 2 ms) {'MET' if met else 'NOT MET'}"
            )
        for label in [label for label in mine if label.endswith(" +writer")]:
            alone_label = label.removesuffix(" +writer")
            kept = median(mine[label], "rps") / median(mine[alone_label], "rps")
            verdicts.append(
                f"{name}: {alone_label} with a write a second keeps {kept:.2f} x its read-only "
                f"req/s: issue 16's target (>= 0.90) {'MET' if kept >= 0.9 else 'NOT MET'}"
            )
        for label, page, target in (
            ("list", "the question list", "SPEC budget"),
            ("home", "the home page", "issue 16's target"),
        ):
            page_ratio = median(mine[label], "rps") / bare_rps
            verdicts.append(
                f"{name}: {page} serves {page_ratio:.2f} x the bare view's req/s"
                f"{' (measured one at a time: not comparable)' if {label, 'bare'} & alone else ''}: "
                f"{target} (>= 0.50) {'MET' if page_ratio >= 0.5 else 'NOT MET'}"
            )
    common.table(("server", "ratio", "req/s ratio", "CPU ratio (bare CPU / page CPU)"), ratio_rows)
    print()
    print("\n".join(verdicts))
    if any(sample.errors for *_, samples, _seq in results for sample in samples):
        sys.exit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
