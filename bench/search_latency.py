"""Time the search page on a large forum in PostgreSQL, one request at a time.

Usage (from the repository root, with the project's virtualenv; about 12
minutes at 100,000 questions, most of it seeding):

    .venv/bin/python bench/search_latency.py \
        --database-url postgres://postgres@127.0.0.1:5432/shukang_bench_search [--questions 100000]
        [--similar]

SPEC section 9: search answers in under 50 ms (p95) over 100,000 questions
on PostgreSQL. Like bench/forum_http.py (whose helpers it uses), it copies
the working tree to a temporary folder, runs the project there with
production settings, creates the PostgreSQL database named (it refuses one
that exists), fills it with bench/forum_seed.py (search documents and
vectors as the services write them, then VACUUM ANALYZE) and drops it at the
end. It then runs itself inside the copy with --probe: each query of QUERIES
goes through Django's WSGI handler as a visitor's GET of /search/?q=...
(middleware, view, template, as a gunicorn worker serves it, the database
connection opened per request as the settings keep it), once to warm up and
then --rounds times. Reported per query: how many questions the search keeps
(forum.search.MAX_CANDIDATES at most) and how many match in all, and the
wall time of a request, p50 / p95 / max; then p95 over every request.

With --similar it times instead the ask form's look-up, GET
/questions/similar/?title=... (forum/similar.py), for SIMILAR_TITLES: titles
as patients type them, in Chinese, English and both, each request from
another visitor's address so the rate limit counts without refusing.
Reported per title: how many questions it offers (5 at most).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

# Words from the seeded forum's vocabulary (bench/forum_seed.py), from one in
# most questions to none, alone and together.
QUERIES = [
    "化疗",
    "化疗 恶心呕吐",
    "手脚麻木",
    "伊马替尼",
    "胰腺癌 腹泻",
    "结直肠癌肝转移",
    "口腔溃疡 化疗",
    "XELOX",
    "PRRT",
    "sunitinib",
    "chemotherapy",
    "量子纠缠",
]
# Titles as a patient would type them on the ask form, some half typed.
SIMILAR_TITLES = [
    "化疗后手脚麻木怎么办",
    "妈妈胃癌术后吃不下饭",
    "奥沙利铂引起的手脚麻木多久能好",
    "结直肠癌肝转移还能手术吗",
    "XELOX第3周期后腹泻",
    "伊马替尼400mg 吃了以后水肿",
    "胰腺癌化疗白细胞偏低",
    "How long does oxaliplatin numbness last",
    "colon cancer cycle 4 of XELOX fatigue",
    "mouth ulcers after chemo",
    "PD-1 免疫治疗以后乏力",
    "我爸爸直肠癌FOLFOX第6周期后恶心呕吐",
]
HOST = "127.0.0.1"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def probe(rounds: int, similar_titles: bool = False) -> None:
    """Inside the project copy: time the search page for each query (or the similar look-up)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.db import connection
    from django.test import RequestFactory

    from forum import search

    factory = RequestFactory(HTTP_HOST=HOST, SERVER_NAME=HOST)
    visitors = iter(range(1, 10**9))

    def hit(path: str) -> float:
        environ = factory.get(path).environ
        # Each request another visitor: the rate limit is counted, never reached.
        number = next(visitors)
        environ["REMOTE_ADDR"] = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        status = []
        started = time.perf_counter()
        body = application(environ, lambda code, headers, exc_info=None: status.append(code))
        try:
            b"".join(body)
        finally:
            body.close()
        elapsed = time.perf_counter() - started
        if not status[0].startswith("200"):
            raise SystemExit(f"{path} answered {status[0]}")
        return elapsed * 1000

    results = []
    if similar_titles:
        for title in SIMILAR_TITLES:
            path = f"/questions/similar/?title={quote(title)}"
            hit(path)
            offered = len(
                json.loads(b"".join(application(factory.get(path).environ, lambda *args: None)))[
                    "results"
                ]
            )
            times = [hit(path) for _ in range(rounds)]
            results.append({"query": title, "matches": f"{offered} offered", "ms": times})
        print(json.dumps(results, ensure_ascii=False))
        return
    for query in QUERIES:
        found = search.matches(query)
        matches = f"more than {len(found.ids)}" if found.more else str(len(found.ids))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM forum_question WHERE state = 'published' "
                    "AND deleted_at IS NULL AND search_vector @@ %s::tsquery",
                    [" & ".join(search.query_tokens(query))],
                )
                matches += f" (all: {cursor.fetchone()[0]})"
        path = f"/search/?q={quote(query)}"
        hit(path)
        times = [hit(path) for _ in range(rounds)]
        results.append({"query": query, "matches": matches, "ms": times})
    print(json.dumps(results, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="postgres://.../NAME, created and dropped"
    )
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20, help="timed requests per query")
    parser.add_argument(
        "--similar",
        action="store_true",
        help="time the ask form's GET /questions/similar/?title= instead of /search/",
    )
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.rounds, args.similar)
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import forum_http  # noqa: PLC0415  (bench/ is not a package)
    import http_servers as common  # noqa: PLC0415

    if not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url must name a PostgreSQL database")
    forum_http.create_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="shukang-search-bench-"))
    env = common.bench_environment(workdir)
    env["DATABASE_URL"] = args.database_url
    started = time.monotonic()
    try:
        print("... copying, migrating and seeding", file=sys.stderr, flush=True)
        project, seeded = forum_http.prepare(workdir, env, args.questions, None, seed_timeout=3600)
        print(f"... seeded in {seeded['seed_wall_seconds']} s", file=sys.stderr, flush=True)
        output = forum_http.manage(
            project,
            env,
            "bench/search_latency.py",
            "--database-url",
            args.database_url,
            "--rounds",
            str(args.rounds),
            *(["--similar"] if args.similar else []),
            "--probe",
            timeout=1800,
        )
        results = json.loads(output.splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        forum_http.drop_database(args.database_url)

    print(f"code: {seeded['code']}")
    print(f"machine: {common.machine(forum_http.PACKAGES)}")
    print(
        f"database: PostgreSQL, {seeded['questions']} questions, {seeded['answers']} answers "
        f"(seeded in {seeded['seed_wall_seconds']} s); {args.rounds} timed requests per query "
        f"after one warm-up, one at a time, in process; whole run {time.monotonic() - started:.0f} s; "
        f"1-minute load average at the end {os.getloadavg()[0]:.2f}"
    )
    print()
    rows = [
        (
            r["query"],
            r["matches"],
            f"{statistics.median(r['ms']):.1f}",
            f"{percentile(r['ms'], 0.95):.1f}",
            f"{max(r['ms']):.1f}",
        )
        for r in results
    ]
    first = "title" if args.similar else "query"
    common.table((first, "matches", "p50 ms", "p95 ms", "max ms"), rows)
    every = [ms for r in results for ms in r["ms"]]
    overall = percentile(every, 0.95)
    verdict = "MET" if overall < 50 else "NOT MET"
    print()
    print(
        f"all {len(every)} requests: p50 {statistics.median(every):.1f} ms, p95 {overall:.1f} ms: "
        f"SPEC budget (p95 < 50 ms) {verdict}"
    )


if __name__ == "__main__":
    main()
