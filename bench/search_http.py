"""Serve the search page beside a bare Django template view, its results kept and not.

Usage (from the repository root, with the project's virtualenv; about 4
minutes, half of it seeding):

    .venv/bin/python bench/search_http.py \
        --database-url postgres://postgres@127.0.0.1:5432/shukang_bench_search_http \
        --redis-url redis://127.0.0.1:6379/13

Issue 16 asks search for a common word at no less than 3 x today's
requests per second, for visitors and signed-in members, with the results
kept in Redis (forum.search.cache_key). This measures both ways in one run.

It prepares the project the way bench/forum_http.py does (whose helpers it
uses): a copy of the working tree with production settings and the bare
view, a fresh database (SQLite in the copy, or the PostgreSQL database named
by --database-url, created and dropped), 10,000 questions from
bench/forum_seed.py, and the cache in the empty Redis database named by
--redis-url (the project's keys are deleted at the end; without it each
process has its own local memory). In that copy only, one line appended to
config/settings.py sets SHUKANG_SEARCH_CACHE from BENCH_SEARCH_CACHE, so the
same code runs twice: once keeping results ("kept"), once searching afresh
on every request ("fresh"). A signed-in member's session is made in the copy
for patient0@bench.example (a seeded patient with questions of their own)
and sent as a cookie.

Server: gunicorn with 2 sync workers, started and stopped by PID, once per
mode. Pages: the bare view; /search/?q=化疗 (the seed's common word) for a
visitor and for the member. Load from wrk (required: it sends the cookie).
Per page: requests per second and server CPU per request (user + system time
of the server's process tree; PostgreSQL's and Redis's own CPU are not in
it), each the median of --rounds runs after a warm-up; then kept / fresh.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forum_http  # noqa: E402  (bench/ is not a package)
import http_servers as common  # noqa: E402
from http_servers import HOST  # noqa: E402

PACKAGES = ["django", "gunicorn", "psycopg", "redis"]
MEMBER = "patient0@bench.example"
MODES = ("kept", "fresh")  # BENCH_SEARCH_CACHE on / off

SETTINGS_APPENDIX = """

# Added by bench/search_http.py to its private copy only.
SHUKANG_SEARCH_CACHE = os.environ.get("BENCH_SEARCH_CACHE", "on") == "on"
"""

SESSION_SCRIPT = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

client = Client()
client.force_login(get_user_model().objects.get(email=%r))
print(settings.SESSION_COOKIE_NAME + "=" + client.cookies[settings.SESSION_COOKIE_NAME].value)
"""


def load_wrk(url: str, seconds: int, connections: int, cookie: str = ""):
    """forum_http.load_wrk, with the member's cookie when there is one."""
    header = ["-H", f"Cookie: {cookie}"] if cookie else []
    result = subprocess.run(
        ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=30s"]
        + header
        + [url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    out = result.stdout
    found = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    requests, elapsed = int(found.group(1)), common.parse_wrk_ms(found.group(2)) / 1000
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    p50 = common.parse_wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = common.parse_wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return requests, elapsed, errors, p50, p99


def check(port: int, path: str, cookie: str) -> int:
    """GET path once as the server's client would; fail unless it is a 200. Return its size."""
    from http.client import HTTPConnection

    conn = HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return len(body)


def run_mode(mode, project, env, pages, args, log_dir) -> dict[str, tuple[list, int]]:
    """Start gunicorn with the search cache on or off, load every page, stop it by PID."""
    port = common.free_port()
    (server,) = [s for s in common.servers(port) if s.argv[2] == "gunicorn"]
    log = (log_dir / f"gunicorn-{mode}.log").open("w")
    process = subprocess.Popen(
        server.argv,
        cwd=project,
        env=env | {"BENCH_SEARCH_CACHE": "on" if mode == "kept" else "off"},
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
        for label, (path, cookie) in pages.items():
            size = check(port, path, cookie)
            url = f"http://{HOST}:{port}{path}"

            def load(url, seconds, connections, cookie=cookie):
                return load_wrk(url, seconds, connections, cookie)

            load(url, args.warmup, args.connections)
            samples = [
                common.measure(load, url, pids, args.duration, args.connections)
                for _ in range(args.rounds)
            ]
            results[label] = (samples, size)
        return results
    finally:
        common.stop(process, pids)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="postgres://user@127.0.0.1:5432/NAME; NAME is created and dropped"
    )
    parser.add_argument("--redis-url", help="redis://127.0.0.1:6379/N, an empty database")
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required (it sends the member's cookie)")

    redis_client = forum_http.redis_database(args.redis_url) if args.redis_url else None
    if args.database_url:
        forum_http.create_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="shukang-search-bench-"))
    env = common.bench_environment(workdir)
    env.pop("DATABASE_CONN_MAX_AGE", None)  # the settings' default, as in production
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    results = {}
    try:
        print("... copying, migrating and seeding", file=sys.stderr, flush=True)
        project, seeded = forum_http.prepare(workdir, env, args.questions, None)
        with (project / "config" / "settings.py").open("a") as settings:
            settings.write(SETTINGS_APPENDIX)
        print(f"... seeded: {json.dumps(seeded, ensure_ascii=False)}", file=sys.stderr, flush=True)
        # The last line: the shell says first what it imported.
        cookie = forum_http.manage(
            project, env, "manage.py", "shell", "-c", SESSION_SCRIPT % MEMBER
        ).splitlines()[-1]
        search = f"/search/?q={quote(seeded['search_word'])}"
        pages = {
            "bare": ("/bench/bare/", ""),
            "search, visitor": (search, ""),
            "search, member": (search, cookie),
        }
        for mode in MODES:
            print(f"... gunicorn, search results {mode}", file=sys.stderr, flush=True)
            results[mode] = run_mode(mode, project, env, pages, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database_url:
            forum_http.drop_database(args.database_url)
        if redis_client is not None:
            forum_http.clear_redis(redis_client)

    median = forum_http.median
    print(f"code: {seeded['code']}")
    print(f"machine: {common.machine(PACKAGES)}; load: wrk")
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}, {seeded['questions']} "
        f"questions, {seeded['answers']} answers; cache: "
        f"{f'Redis ({args.redis_url})' if args.redis_url else 'local memory, per process'}"
    )
    print(
        f"search = {search} ('{seeded['search_word']}', {seeded['search_hits']} matching "
        f"questions); member = {MEMBER}"
    )
    print(
        f"server: gunicorn, 2 sync workers; load: {args.connections} connections, {args.rounds} x "
        f"{args.duration} s per page after {args.warmup} s warm-up; medians; whole run "
        f"{time.monotonic() - started:.0f} s; 1-minute load average {load_before:.2f} at the "
        f"start, {os.getloadavg()[0]:.2f} at the end (other work on the machine shows here)"
    )
    print()
    common.table(
        ("results", "page", "bytes", "req/s", "CPU ms/req", "p50 ms", "p99 ms", "errors"),
        [
            (
                mode,
                label,
                str(size),
                forum_http.rate(median(samples, "rps")),
                f"{median(samples, 'cpu_ms_per_request'):.2f}",
                f"{median(samples, 'p50_ms'):.0f}",
                f"{median(samples, 'p99_ms'):.0f}",
                str(sum(sample.errors for sample in samples)),
            )
            for mode in MODES
            for label, (samples, size) in results[mode].items()
        ],
    )
    print()
    rows = []
    for label in ("search, visitor", "search, member"):
        kept, fresh = results["kept"][label][0], results["fresh"][label][0]
        bare = results["kept"]["bare"][0]
        rows.append(
            (
                label,
                forum_http.ratio(median(kept, "rps") / median(fresh, "rps")),
                forum_http.ratio(
                    median(fresh, "cpu_ms_per_request") / median(kept, "cpu_ms_per_request")
                ),
                forum_http.ratio(median(kept, "rps") / median(bare, "rps")),
            )
        )
    common.table(("page", "req/s kept / fresh", "CPU fresh / kept", "req/s kept / bare"), rows)
    if any(s.errors for mode in MODES for samples, _ in results[mode].values() for s in samples):
        sys.exit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
