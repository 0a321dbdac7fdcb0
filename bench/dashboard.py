"""Time the department dashboard over a year of questions, at 10,000 and at 100,000.

Usage (from the repository root, with the project's virtualenv; under a
minute on PostgreSQL for both sizes, about 1.5 minutes on SQLite):

    .venv/bin/python bench/dashboard.py [--questions 10000,100000] [--requests 30]
        [--explain] [--engine postgres|sqlite] [--timeout 480]
        [--database-url postgres://postgres@127.0.0.1:5432/shukang_bench_dash_<pid>]

The target (issue 14): the page in under 200 ms over a year of 100,000
questions, with a number of queries that does not grow with the data. Like
bench/search_latency.py (whose helpers it shares), it copies the working tree
to a temporary folder and runs the project there with production settings
(DJANGO_DEBUG=false, manifest static storage after collectstatic, compiled
catalogues). For each size in --questions, one after another, it creates the
PostgreSQL database named (by default shukang_bench_dash_<pid>; it refuses
one that exists, and never takes shukang_ci), migrates it, runs itself inside
the copy with --probe, and drops the database, also when a step fails or the
run passes --timeout. With --engine sqlite it uses a fresh SQLite file in the
temporary folder instead.

The probe seeds a year of questions: accounts through the account service
(25 verified physicians with specialties, a moderator, 20 patients; their
passwords hashed with MD5 here only, since nobody signs in with them), then
Question, Answer and Routing rows in bulk (COPY on PostgreSQL, executemany
on SQLite), their keys given up front so the accepted answers and duplicates
are written in the same inserts. Questions are spread evenly over 365 days
among the six categories, so five in six are in a tumour group; a question's time to its first answer is drawn
from a log-normal distribution per group (medians 4 to 10 hours, a 90th
percentile about five times the median), so most are answered well within
the 48-hour target and a few take days. One in two hundred is never answered;
those whose answer would come after "now" are still waiting, and 30 % of the
waiting ones are claimed. A third of the answered questions get a second
answer; thanks and accepted answers are spread over them; 2 % of the
questions are hidden or deleted and 0.5 % are unanswered duplicates. Then
VACUUM ANALYZE (ANALYZE on SQLite), as autovacuum would do soon after a load.

It times GET /dashboard/ for a verified physician in process, through
Django's WSGI handler (every middleware, the session, the view, the template,
the database connection as the settings keep it): --warmup requests first,
then --requests timed one after another. Then duty.figures.
department_figures() alone, as often. Reported per size: median, 90th
percentile (nearest rank) and max of each, the number of SQL queries of one
request and each query with its time. With --explain, EXPLAIN (ANALYZE,
BUFFERS) of each of the selector's queries (PostgreSQL).
"""

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HOST = "127.0.0.1"
PASSWORD = "bench-dashboard-password-2026"
# Median hours to a first answer per tumour group (in the migration's order);
# sigma 1.25 puts the 90th percentile near five times the median.
MEDIAN_HOURS = {
    "gastric-cancer": 4,
    "colorectal-cancer": 6,
    "hepatobiliary-pancreatic-cancer": 8,
    "gist": 10,
    "gep-net": 7,
}
SIGMA = 1.25
NEVER_ANSWERED = 0.005
DOCTORS = 25
PATIENTS = 20
BUDGET_MS = 200
PROTECTED_DATABASES = {"shukang_ci", "postgres", "template0", "template1"}


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the ceil(share * n)-th of the values in ascending order."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def insert_rows(model, rows: list[dict]) -> None:
    """Write rows (values by attribute name; the model's defaults for the rest) in bulk.

    COPY on PostgreSQL, one executemany on SQLite: what bulk_create writes,
    without preparing each value of 230,000 rows through the ORM, which made
    seeding a year of questions take minutes.
    """
    from django.db import connection

    fields = model._meta.concrete_fields
    template = model()
    names = [field.attname for field in fields]
    defaults = [None if field.primary_key else field.pre_save(template, True) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    values = (
        [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            prepare = [field.get_db_prep_save for field in fields]
            # Table and column names from the model, quoted; the values are parameters.
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                [
                    [
                        convert(value, connection)
                        for convert, value in zip(prepare, row, strict=True)
                    ]
                    for row in values
                ],
            )


def seed(questions_wanted: int, seed_value: int = 14) -> dict:
    """Write a year of questions, routings and answers; return what was written."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max
    from django.test import override_settings
    from django.utils import timezone

    from accounts.models import PhysicianProfile, User
    from accounts.services import account_create
    from duty.models import Routing, TumourGroup
    from forum.models import Answer, Category, PostState, Question

    rng = random.Random(seed_value)
    started = time.monotonic()
    categories = list(Category.objects.order_by("position", "pk"))
    groups = {group.category_id: group for group in TumourGroup.objects.all()}
    titles = list(PhysicianProfile.Title.values)
    # Nobody signs in with these passwords (the probe uses force_login), so
    # they need not cost the production hasher's 46 slow rounds.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        doctors = [
            account_create(
                email=f"doctor{i}@bench.example",
                password=PASSWORD,
                role=User.Role.DOCTOR,
                verified=True,
                name=f"Dr. Bench {i:02d}",
                title=titles[i % len(titles)],
                licence_number=f"BENCH-{i:04d}",
                specialties=[categories[i % len(categories)]],
            ).pk
            for i in range(DOCTORS)
        ]
        account_create(
            email="moderator@bench.example",
            password=PASSWORD,
            role=User.Role.MODERATOR,
            name="Mod",
        )
        patients = [
            account_create(
                email=f"patient{i}@bench.example", password=PASSWORD, name=f"病友{i:02d}"
            ).pk
            for i in range(PATIENTS)
        ]
    accounts_seconds = time.monotonic() - started

    now = timezone.now()
    year = timedelta(days=365)
    # Keys given here, so that a question's accepted answer and a duplicate's
    # original go into the same inserts (the foreign keys are checked at commit).
    next_question = (Question.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    next_answer = (Answer.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    next_routing = (Routing.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    first_in_category: dict[int, int] = {}
    questions, answers, routings = [], [], []
    for index in range(questions_wanted):
        pk = next_question + index
        category = rng.choice(categories)
        group = groups.get(category.pk)
        published = (
            now - year + year * (index / questions_wanted) + timedelta(seconds=rng.randint(0, 300))
        )
        published = min(published, now - timedelta(minutes=1))
        roll = rng.random()
        duplicate_of = first_in_category.get(category.pk) if 0.02 <= roll < 0.025 else None
        first_in_category.setdefault(category.pk, pk)
        median = MEDIAN_HOURS.get(category.slug, 8)
        answered = published + timedelta(hours=rng.lognormvariate(math.log(median), SIGMA))
        if answered > now or rng.random() < NEVER_ANSWERED or duplicate_of:
            answered = None
        question = {
            "id": pk,
            "author_id": rng.choice(patients),
            "title": f"化疗第{rng.randint(1, 8)}周期后手脚麻木，需要调整方案吗？（{index}）",
            "slug": f"q-{index}",
            "body": "最近手脚麻木，遇冷加重，请问需要调整方案吗？",
            "body_html": "<p>最近手脚麻木，遇冷加重，请问需要调整方案吗？</p>",
            "category_id": category.pk,
            "state": PostState.HIDDEN if roll < 0.01 else PostState.PUBLISHED,
            "deleted_at": now if 0.01 <= roll < 0.02 else None,
            "duplicate_of_id": duplicate_of,
            "created_at": published,
            "updated_at": published,
            "last_activity_at": published,
        }
        first_by = rng.choice(doctors) if answered else None
        claimed = answered is None and rng.random() < 0.3
        routings.append(
            {
                "id": next_routing + index,
                "question_id": pk,
                "group_id": group.pk if group else None,
                "published_at": published,
                "target_hours": group.target_hours if group else 48,
                "first_answer_at": answered,
                "first_answer_by_id": first_by,
                "claimed_by_id": rng.choice(doctors) if claimed else None,
                "claimed_at": now - timedelta(minutes=rng.randint(1, 300)) if claimed else None,
            }
        )
        if answered:
            moments = [(first_by, answered)]
            if rng.random() < 1 / 3:
                later = answered + timedelta(hours=rng.uniform(1, 72))
                if later < now:
                    moments.append((rng.choice(doctors), later))
            for author, moment in moments:
                answer_pk = next_answer + len(answers)
                answers.append(
                    {
                        "id": answer_pk,
                        "question_id": pk,
                        "author_id": author,
                        "body": "少量多餐，注意保暖，复诊时告诉主治医生。",
                        "body_html": "<p>少量多餐，注意保暖，复诊时告诉主治医生。</p>",
                        "created_at": moment,
                        "updated_at": moment,
                        "thanks_count": rng.choice([0, 0, 0, 1, 1, 2, 3]),
                    }
                )
                if rng.random() < 0.3:
                    question["accepted_answer_id"] = answer_pk
            question["answer_count"] = len(moments)
            question["last_activity_at"] = moments[-1][1]
        questions.append(question)
    build_seconds = time.monotonic() - started - accounts_seconds

    with transaction.atomic():
        insert_rows(Question, questions)
        insert_rows(Answer, answers)
        insert_rows(Routing, routings)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Question, Answer, Routing]):
                cursor.execute(sql)
    insert_seconds = time.monotonic() - started - accounts_seconds - build_seconds
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    analyze_seconds = time.monotonic() - started - accounts_seconds - build_seconds - insert_seconds
    return {
        "questions": Question.objects.count(),
        "routings": Routing.objects.count(),
        "routed": Routing.objects.filter(group__isnull=False).count(),
        "answers": Answer.objects.count(),
        "accepted": Question.objects.filter(accepted_answer__isnull=False).count(),
        "waiting": Routing.objects.filter(first_answer_at__isnull=True).count(),
        "seconds": {
            "accounts": round(accounts_seconds, 1),
            "build rows": round(build_seconds, 1),
            "insert": round(insert_seconds, 1),
            "analyze": round(analyze_seconds, 1),
        },
    }


def probe(questions: int, requests: int, warmup: int, explain: bool) -> None:
    """Inside the project copy: seed, then time the dashboard page and its selector."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, RequestFactory

    from duty.figures import department_figures

    seeded = seed(questions)
    client = Client()
    client.force_login(get_user_model().objects.get(email="doctor0@bench.example"))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    factory = RequestFactory(HTTP_HOST=HOST, SERVER_NAME=HOST, HTTP_COOKIE=cookie)

    def hit() -> tuple[float, int]:
        environ = factory.get("/dashboard/").environ
        status = []
        started = time.perf_counter()
        body = application(environ, lambda code, headers, exc_info=None: status.append(code))
        try:
            size = len(b"".join(body))
        finally:
            body.close()
        elapsed = time.perf_counter() - started
        if not status[0].startswith("200"):
            raise SystemExit(f"/dashboard/ answered {status[0]}")
        return elapsed * 1000, size

    for _ in range(warmup):
        hit()
    page = [hit()[0] for _ in range(requests)]
    size = hit()[1]

    captured = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append(((time.perf_counter() - started) * 1000, sql, params))

    with connection.execute_wrapper(timed):
        hit()
    request_queries = list(captured)
    captured.clear()
    with connection.execute_wrapper(timed):
        department_figures()
    selector_queries = len(captured)
    selector = []
    for _ in range(requests):
        started = time.perf_counter()
        figures = department_figures()
        selector.append((time.perf_counter() - started) * 1000)
    plans = []
    if explain and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for _ms, sql, params in captured:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plans.append({"sql": sql, "plan": "\n".join(row[0] for row in cursor.fetchall())})
    department = figures.department
    print(
        json.dumps(
            {
                "seeded": seeded,
                "page_ms": page,
                "page_bytes": size,
                "selector_ms": selector,
                "selector_queries": selector_queries,
                "queries": [(round(ms, 2), sql[:150]) for ms, sql, _params in request_queries],
                "period": {
                    "asked": department.asked,
                    "median_hours": department.median_hours,
                    "p90_hours": department.p90_hours,
                    "share": department.share,
                    "waiting": figures.waiting_count,
                    "overdue": figures.waiting_overdue,
                    "physicians": len(figures.physicians),
                    "home_line": None
                    if figures.home_line is None
                    else [figures.home_line.percent, figures.home_line.count],
                },
                "plans": plans,
            },
            ensure_ascii=False,
        )
    )


def figures_row(label: str, size: int, values: list[float], queries: int) -> tuple[str, ...]:
    return (
        f"{size:,}",
        label,
        f"{statistics.median(values):.1f}",
        f"{percentile(values, 0.9):.1f}",
        f"{max(values):.1f}",
        str(queries),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--questions",
        default="10000,100000",
        help="comma-separated sizes, each on a fresh database (default: 10000,100000)",
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per size")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries")
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument(
        "--database-url",
        default=f"postgres://postgres@127.0.0.1:5432/shukang_bench_dash_{os.getpid()}",
        help="postgres://.../NAME, created and dropped (default: shukang_bench_dash_<pid>)",
    )
    parser.add_argument(
        "--timeout", type=int, default=480, help="seconds for the whole run (default: 480)"
    )
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(int(args.questions), args.requests, args.warmup, args.explain)
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import forum_http  # noqa: PLC0415  (bench/ is not a package)
    import http_servers as common  # noqa: PLC0415

    sizes = [int(size) for size in args.questions.split(",")]
    postgres = args.engine == "postgres"
    if postgres:
        if not args.database_url.startswith("postgres"):
            raise SystemExit("--database-url must name a PostgreSQL database")
        _admin, name = common.postgres_admin(args.database_url)
        _admin.close()
        if name in PROTECTED_DATABASES:
            raise SystemExit(f"refusing to create and drop {name}")
    started = time.monotonic()
    deadline = started + args.timeout

    def remaining() -> int:
        left = int(deadline - time.monotonic())
        if left <= 0:
            raise TimeoutError(f"the run took more than --timeout {args.timeout} s")
        return left

    workdir = Path(tempfile.mkdtemp(prefix="shukang-dashboard-bench-"))
    env = common.bench_environment(workdir)
    results = {}
    try:
        print("... copying the project, collecting static files", file=sys.stderr, flush=True)
        project = workdir / "project"
        code = common.copy_project(project, None)
        for command in (["compiletranslations"], ["collectstatic", "--noinput", "-v0"]):
            forum_http.manage(project, env, "manage.py", *command, timeout=remaining())
        for size in sizes:
            if postgres:
                env["DATABASE_URL"] = args.database_url
                forum_http.create_database(args.database_url)
            else:
                database = workdir / f"bench-{size}.sqlite3"
                env["DATABASE_URL"] = f"sqlite:///{database}"
            try:
                print(f"... {size:,} questions: migrating", file=sys.stderr, flush=True)
                forum_http.manage(
                    project, env, "manage.py", "migrate", "--noinput", "-v0", timeout=remaining()
                )
                print(f"... {size:,} questions: seeding and timing", file=sys.stderr, flush=True)
                output = forum_http.manage(
                    project,
                    env,
                    "bench/dashboard.py",
                    "--questions",
                    str(size),
                    "--requests",
                    str(args.requests),
                    "--warmup",
                    str(args.warmup),
                    *(["--explain"] if args.explain else []),
                    "--probe",
                    timeout=remaining(),
                )
                results[size] = json.loads(output.splitlines()[-1])
            finally:
                if postgres:
                    forum_http.drop_database(args.database_url)
                else:
                    database.unlink(missing_ok=True)
    except (TimeoutError, subprocess.TimeoutExpired) as error:
        raise SystemExit(f"stopped, database dropped: {error}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    packages = [*forum_http.PACKAGES]
    print(f"code: {code}")
    print(f"machine: {common.machine(packages)}")
    engine = "PostgreSQL" if postgres else "SQLite"
    for size, result in results.items():
        seeded, period = result["seeded"], result["period"]
        print(
            f"{engine}, {size:,}: {seeded['questions']} questions over 365 days, "
            f"{seeded['routed']} routed to a tumour group, {seeded['waiting']} unanswered, "
            f"{seeded['answers']} answers; seeding {seeded['seconds']}; page "
            f"{result['page_bytes']} bytes"
        )
        print(
            f"  last 8 weeks: {period['asked']} questions counted, median "
            f"{period['median_hours']:.1f} h, p90 {period['p90_hours']:.1f} h, within target "
            f"{period['share']:.1%}; waiting now {period['waiting']} ({period['overdue']} past "
            f"the target); {period['physicians']} physicians; home line {period['home_line']}"
        )
    print(
        f"{args.requests} timed requests per size after {args.warmup} warm-ups, one at a time, "
        f"in process; whole run {time.monotonic() - started:.0f} s; load average at the end "
        + " / ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    print()
    rows = []
    for size, result in results.items():
        rows.append(
            figures_row(
                "GET /dashboard/ (physician)", size, result["page_ms"], len(result["queries"])
            )
        )
        rows.append(
            figures_row(
                "department_figures() alone",
                size,
                result["selector_ms"],
                result["selector_queries"],
            )
        )
    common.table(("questions", "what", "median ms", "p90 ms", "max ms", "queries"), rows)
    for size, result in results.items():
        print()
        print(f"SQL of one request at {size:,} ({len(result['queries'])} queries):")
        for ms, sql in result["queries"]:
            print(f"  {ms:7.2f} ms  {sql}")
        for plan in result["plans"]:
            print()
            print(plan["sql"])
            print(plan["plan"])
    counts = {len(result["queries"]) for result in results.values()}
    print()
    print(f"queries per request: {'flat' if len(counts) == 1 else 'NOT flat'} ({sorted(counts)})")
    largest = results[max(results)]
    median, p90 = statistics.median(largest["page_ms"]), percentile(largest["page_ms"], 0.9)
    verdict = "met" if median < BUDGET_MS else "NOT met"
    print(
        f"budget at {max(results):,} (median under {BUDGET_MS} ms): {verdict}; "
        f"p90 {p90:.1f} ms {'under' if p90 < BUDGET_MS else 'over'} it"
    )


if __name__ == "__main__":
    main()
