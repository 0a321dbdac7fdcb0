"""Profile a few requests to a page, in process, the way a WSGI worker serves them.

Run by bench/forum_http.py --profile inside its private copy of the project
(production settings from the environment, seeded database):

    python bench/forum_profile.py /questions/ --requests 50 [--signed-in patient0@bench.example]

Each request goes through Django's WSGI handler, so the middleware runs and
the database connection is opened and closed per request as under gunicorn
(Django's test Client would keep it open). Prints the page's wall time per
request without the profiler, its SQL queries, then cProfile's view: the
functions of the project and of Django with the most cumulative time, and the
functions anywhere with the most time of their own. Times are per request.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402

HOST = "127.0.0.1"
DJANGO_DIR = str(Path(__import__("django").__file__).parent)


COOKIE: dict[str, str] = {}  # HTTP_COOKIE of a signed-in session, with --signed-in


def hit(path: str) -> tuple[int, int]:
    environ = RequestFactory(HTTP_HOST=HOST, SERVER_NAME=HOST, **COOKIE).get(path).environ
    # As a WSGI server passes it: the path's bytes, percent-decoded, as latin-1.
    environ["PATH_INFO"] = unquote_to_bytes(urlsplit(path).path).decode("iso-8859-1")
    status = []
    body = application(environ, lambda code, headers, exc_info=None: status.append(code))
    try:
        size = sum(len(chunk) for chunk in body)
    finally:
        body.close()
    return int(status[0].split()[0]), size


def ours(filename: str) -> bool:
    return filename.startswith(DJANGO_DIR) or (
        filename.startswith(str(PROJECT)) and "/bench/" not in filename
    )


def short(filename: str) -> str:
    for root, label in ((DJANGO_DIR, "django"), (str(PROJECT), "")):
        if filename.startswith(root):
            return (label + filename[len(root) :]).lstrip("/")
    return filename.rsplit("site-packages/", 1)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--signed-in",
        metavar="EMAIL",
        help="request as this account (forum_seed.py makes patient0@bench.example)",
    )
    parser.add_argument(
        "--search",
        choices=("kept", "fresh", "nothing-kept"),
        default="kept",
        help="for /search/: its results kept (as served), searched afresh each time with the "
        "rows already shown kept, or nothing kept at all",
    )
    args = parser.parse_args()
    n = args.requests
    if args.search != "kept":
        from django.conf import settings

        from forum import search

        if args.search == "fresh":
            search.cache_key = lambda **options: None
        else:
            settings.SHUKANG_SEARCH_CACHE = False
    if args.signed_in:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
        from django.test import Client
        from django.utils.crypto import get_random_string

        client = Client()
        client.force_login(get_user_model().objects.get(email=args.signed_in))
        # The session and the CSRF cookie, as a member's browser sends them (bench/forum_http.py).
        name = settings.SESSION_COOKIE_NAME
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        COOKIE["HTTP_COOKIE"] = (
            f"{name}={client.cookies[name].value}; {settings.CSRF_COOKIE_NAME}={csrf}"
        )

    status, size = hit(args.path)
    if status != 200:
        sys.exit(f"{args.path} answered {status}")
    for _ in range(10):
        hit(args.path)
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(n):
        hit(args.path)
    wall = (time.perf_counter() - started) / n
    cpu = (time.process_time() - cpu_started) / n

    captured = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append((time.perf_counter() - started, sql))

    with connection.execute_wrapper(timed):
        hit(args.path)
    sql_ms = sum(seconds for seconds, _sql in captured) * 1000

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        hit(args.path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values()) / n  # sum of own time

    who = f"signed in as {args.signed_in}" if args.signed_in else "a visitor"
    print(
        f"page {args.path} for {who}: {size} bytes, "
        f"{wall * 1000:.2f} ms per request without the profiler ({cpu * 1000:.2f} ms of it CPU)"
    )
    print(
        f"SQL: {len(captured)} queries, {sql_ms:.2f} ms (execute only, rows fetched later not included)"
    )
    for seconds, sql in captured:
        print(f"  {seconds * 1000:6.2f} ms  {sql[:160]}")
    print(f"profiled: {n} requests, {total * 1000:.2f} ms per request under cProfile")
    print()
    print(
        f"top {args.top} project and Django functions by cumulative time (ms per request, calls per request)"
    )
    rows = [
        (cumulative / n, calls / n, key)
        for key, (_cc, calls, _own, cumulative, _callers) in stats.stats.items()
        if ours(key[0])
    ]
    for cumulative, calls, (filename, line, name) in sorted(rows, reverse=True)[: args.top]:
        print(f"  {cumulative * 1000:7.2f}  {calls:7.1f}  {short(filename)}:{line}({name})")
    print()
    print("top 40 functions anywhere by own time (ms per request, calls per request)")
    rows = [
        (own / n, calls / n, key) for key, (_cc, calls, own, _cum, _callers) in stats.stats.items()
    ]
    for own, calls, (filename, line, name) in sorted(rows, reverse=True)[:40]:
        print(f"  {own * 1000:7.2f}  {calls:7.1f}  {short(filename)}:{line}({name})")


if __name__ == "__main__":
    main()
