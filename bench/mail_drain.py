"""How fast the task worker drains queued e-mail through SMTP, with 1 and 2 workers.

Usage (from the repository root, with the project's virtualenv; about 5 minutes):

    .venv/bin/python bench/mail_drain.py --commit HEAD
    .venv/bin/python bench/mail_drain.py --emails 2000 --batches 1000,20,1 --workers 1,2 --runs 3

It copies the working tree (or, with --commit, a commit through git archive)
to a temporary folder and runs the project there with production settings,
like bench/notify_latency.py, on a fresh PostgreSQL database it creates and
drops (postgres://postgres@127.0.0.1:5432/shukang_bench_mail by default; a
database named with --database-url must not exist yet). Mail goes over SMTP
to bench/smtp_sink.py, aiosmtpd in its own process on 127.0.0.1 and a free
port, which writes down every message it accepts. No Redis is used.

Seeding: 1,000 patients and one question. Then, for each batch size, each
worker count and each run:

1. A fresh sink starts, then the workers (`manage.py db_worker --queue-name
   '*' --interval 0.1 --no-reload --no-startup-delay`, as docker-compose.yml
   runs them); each is ready once it logs that it started.
2. One `manage.py shell -c` script deletes the previous run's e-mails and
   task rows, then in one transaction writes --emails notification e-mails
   ("an answer to a question you follow", each to one patient, 1,000
   patients per answer) through notifications.services.emails_queue, the
   function notify() calls: one emails_send task per --batches e-mails. A
   1,000-follower answer makes one task of 1,000; an answer to one asker a
   task of 1. It logs the commit's time.
3. The clock runs from that commit until the sink has every e-mail.
4. The workers are stopped (SIGTERM, by PID), then the sink.

Checked after every run: each e-mail reached the sink exactly once (by
address and the answer it links to), every OutgoingEmail is stamped sent
after one attempt, and every task row succeeded. Reported per run: e-mails
per second, the wait for the first e-mail, each worker's CPU and e-mails,
the sink's CPU, and the machine's busy CPU share; then the median of the
runs per batch size and worker count. The workers, the sink, PostgreSQL
and this script share the machine's cores.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_servers as common  # noqa: E402  (bench/ is not a package)
import notify_latency as notify  # noqa: E402
import smtp_sink  # noqa: E402
from http_servers import HOST  # noqa: E402

PACKAGES = ["django", "django-tasks-db", "psycopg", "aiosmtpd"]
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/shukang_bench_mail"

SEED = r"""
from django.utils import timezone

from accounts.models import User
from core.markdown import render_markdown
from forum import search
from forum.models import Category, Question
from forum.services import _question_slug

now = timezone.now()
patients = User.objects.bulk_create([
    User(email=f"patient{i:04d}@bench.invalid", name=f"Patient {i:04d}", role=User.Role.PATIENT,
         date_joined=now)
    for i in range(1000)
])
title = "A question every patient follows: the mail benchmark"
body = "After the third cycle of XELOX my mother has nausea for four days. What helps at home?"
Question.objects.create(author=patients[0], title=title, slug=_question_slug(title), body=body,
                        body_html=render_markdown(body), category=Category.objects.order_by("pk").first(),
                        search_document=search.document(title, body))
"""

ENQUEUE = r"""
import json, os, time

from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from forum.models import Question
from notifications.models import OutgoingEmail, Verb
from notifications.services import emails_queue

n, batch = int(os.environ["BENCH_EMAILS"]), int(os.environ["BENCH_BATCH"])
OutgoingEmail.objects.all().delete()
DBTaskResult.objects.all().delete()
patients = list(User.objects.filter(email__endswith="@bench.invalid").order_by("pk"))
question = Question.objects.get()
data = {"actor": "Dr. Bench", "title": question.title}
# E-mail i goes to patient i % 1,000 about answer i // 1,000 + 1, as notify()
# writes them for a 1,000-follower question.
emails = [
    OutgoingEmail(recipient=p, to=p.email, verb=Verb.ANSWER, data=data,
                  url=f"{question.get_absolute_url()}#answer-{i // len(patients) + 1}")
    for i in range(n)
    for p in [patients[i % len(patients)]]
]
committed = {}
with transaction.atomic():
    for k in range(0, n, batch):
        emails_queue(emails[k : k + batch])
    transaction.on_commit(lambda: committed.setdefault("at", time.time()))
print(json.dumps({"committed": committed["at"], "tasks": -(-n // batch),
                  "expected": [[e.to, e.url] for e in emails]}))
"""

CHECK = r"""
import json
from collections import Counter

from django_tasks_db.models import DBTaskResult
from notifications.models import OutgoingEmail

emails = OutgoingEmail.objects.all()
tasks = DBTaskResult.objects.all()
by_worker = Counter()
for task in tasks.filter(status="SUCCESSFUL"):
    by_worker[(task.worker_ids or ["?"])[-1]] += task.return_value or 0
print(json.dumps({
    "emails": emails.count(),
    "unsent": emails.filter(sent_at__isnull=True).count(),
    "retried": emails.filter(attempts__gt=1).count(),
    "tasks": dict(Counter(tasks.values_list("status", flat=True))),
    "by_worker": dict(by_worker),
}))
"""


@dataclass
class Run:
    batch: int
    workers: int
    emails: int = 0
    seconds: float = 0.0  # commit -> last e-mail at the sink
    first: float = 0.0  # commit -> first e-mail
    arrived: int = 0
    lost: int = 0
    duplicated: int = 0
    stray: int = 0
    unsent: int = 0
    retried: int = 0
    failed_tasks: int = 0
    task_rows: int = 0  # the tasks queued, and any the worker queued in turn
    worker_cpu: list[float] = field(default_factory=list)
    by_worker: list[int] = field(default_factory=list)
    sink_cpu: float = 0.0
    busy: float = 0.0  # share of the machine's CPU time in use during the drain

    @property
    def rate(self) -> float:
        return self.arrived / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        problems = self.lost + self.duplicated + self.stray + self.unsent + self.retried
        return not problems and not self.failed_tasks and self.arrived == self.emails


def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def shell(project: Path, env: dict[str, str], script: str, **extra: str) -> str:
    return notify.manage(project, {**env, **extra}, "shell", "--no-imports", "-c", script)


def start_worker(project: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    argv = [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.1"]
    argv += ["--no-reload", "--no-startup-delay"]
    process = subprocess.Popen(
        argv,
        cwd=project,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process


def wait_started(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while "Starting worker" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"a worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def one_run(
    project: Path, env: dict[str, str], workdir: Path, run: Run, n: int, timeout: float
) -> Run:
    tag = f"b{run.batch}-w{run.workers}-{time.monotonic_ns()}"
    out = workdir / f"mail-{tag}.jsonl"
    sink = smtp_sink.start(int(env["EMAIL_PORT"]), out, workdir / f"sink-{tag}.log")
    workers: list[subprocess.Popen] = []
    try:
        for w in range(run.workers):
            log = workdir / f"worker-{tag}-{w}.log"
            workers.append(start_worker(project, env, log))
        for w, process in enumerate(workers):
            wait_started(process, workdir / f"worker-{tag}-{w}.log")
        cpu = [common.cpu_seconds([p.pid]) for p in workers]
        sink_cpu = common.cpu_seconds([sink.pid])
        busy = machine_busy()
        queued = json.loads(
            shell(project, env, ENQUEUE, BENCH_EMAILS=str(n), BENCH_BATCH=str(run.batch))
        )
        run.emails = n
        deadline = time.monotonic() + timeout
        while smtp_sink.count_lines(out) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        busy_end = machine_busy()
        run.worker_cpu = [
            common.cpu_seconds([p.pid]) - before for p, before in zip(workers, cpu, strict=True)
        ]
        run.sink_cpu = common.cpu_seconds([sink.pid]) - sink_cpu
        run.busy = (busy_end[0] - busy[0]) / max(busy_end[1] - busy[1], 1)
        time.sleep(1)  # anything sent twice arrives too
    finally:
        for process in workers:
            stop(process)
        stop(sink)
    messages = smtp_sink.read_messages(out)
    expected = {(to, url) for to, url in queued["expected"]}
    counts: dict[tuple[str, str], int] = {}
    for message in messages:
        key = (message.to, message.link)
        counts[key] = counts.get(key, 0) + 1
    run.arrived = len(messages)
    run.lost = len(expected - counts.keys())
    run.duplicated = sum(c - 1 for key, c in counts.items() if key in expected and c > 1)
    run.stray = sum(c for key, c in counts.items() if key not in expected)
    if messages:
        run.seconds = messages[-1].at - queued["committed"]
        run.first = messages[0].at - queued["committed"]
    check = json.loads(shell(project, env, CHECK))
    run.unsent, run.retried = check["unsent"], check["retried"]
    run.failed_tasks = sum(c for status, c in check["tasks"].items() if status != "SUCCESSFUL")
    run.task_rows = sum(check["tasks"].values())
    run.by_worker = sorted(check["by_worker"].values(), reverse=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--commit",
        help="measure this commit (git archive REV, e.g. HEAD) instead of the working tree",
    )
    parser.add_argument(
        "--apply",
        type=Path,
        help="with --commit: apply this diff to the copy (a change not committed yet)",
    )
    parser.add_argument("--emails", type=int, default=2000, help="e-mails queued per run")
    parser.add_argument(
        "--batches", default="1000,20,1", help="e-mails per emails_send task, comma-separated"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per batch size and worker count")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for one run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    n = max(1, min(args.emails, 20000))
    batches = [max(1, min(int(b), n)) for b in args.batches.split(",")]
    worker_counts = [max(1, min(int(w), 4)) for w in args.workers.split(",")]
    runs = max(1, min(args.runs, 5))
    if args.database_url != DEFAULT_DATABASE and not args.database_url.startswith("postgres"):
        sys.exit("--database-url must be a PostgreSQL URL: two workers need row locks")

    workdir = Path(tempfile.mkdtemp(prefix="shukang-mail-"))
    database_url = args.database_url
    notify.DEFAULT_DATABASE = DEFAULT_DATABASE  # create_database may replace a leftover of ours
    notify.create_database(database_url)
    results: list[Run] = []
    try:
        env = common.bench_environment(workdir)
        env.update(
            DATABASE_URL=database_url,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=HOST,
            EMAIL_PORT=str(common.free_port()),
            EMAIL_USE_TLS="false",
            PYTHONUNBUFFERED="1",
        )
        env.pop("REDIS_URL", None)
        print("... copying the project, migrate, seed", file=sys.stderr, flush=True)
        project = workdir / "project"
        code = common.copy_project(project, args.commit, patch=args.apply)
        notify.manage(project, env, "compiletranslations")
        notify.manage(project, env, "migrate", "--noinput", "-v0")
        shell(project, env, SEED)
        load_start = Path("/proc/loadavg").read_text().split()[0]
        for batch in batches:
            for workers in worker_counts:
                for r in range(runs):
                    run = one_run(project, env, workdir, Run(batch, workers), n, args.timeout)
                    results.append(run)
                    print(
                        f"... {n} e-mails, {batch} per task, {workers} worker(s), run {r + 1}: "
                        f"{run.rate:.0f} e-mails/s{'' if run.ok else ' (PROBLEM)'}",
                        file=sys.stderr,
                        flush=True,
                    )
        load_end = Path("/proc/loadavg").read_text().split()[0]
    finally:
        with suppress(Exception):
            notify.drop_database(database_url)
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"machine: {common.machine(PACKAGES)}")
    print(f"code: {code}")
    print(f"load average (1 min) at start {load_start}, at end {load_end}")
    print(
        f"setup: PostgreSQL ({database_url.rsplit('/', 1)[-1]}), production settings, "
        f"db_worker --interval 0.1, SMTP sink (aiosmtpd) on {HOST}; {n} e-mails per run"
    )
    print()
    print("Every run (seconds from the commit that queued the e-mails):")
    rows = []
    for run in results:
        rows.append(
            (
                str(run.batch),
                f"{-(-n // run.batch)} ({run.task_rows})",
                str(run.workers),
                f"{run.rate:.0f}",
                f"{run.seconds:.2f}",
                f"{run.first:.2f}",
                " + ".join(str(x) for x in run.by_worker),
                " + ".join(f"{c:.1f}" for c in run.worker_cpu),
                f"{1000 * sum(run.worker_cpu) / max(run.arrived, 1):.2f}",
                f"{1000 * run.sink_cpu / max(run.arrived, 1):.2f}",
                f"{100 * run.busy:.0f}",
                f"{run.arrived}/{run.lost}/{run.duplicated}/{run.stray}",
                "ok" if run.ok else "PROBLEM",
            )
        )
    common.table(
        (
            "per task",
            "tasks queued (run)",
            "workers",
            "e-mails/s",
            "drain s",
            "first s",
            "e-mails per worker",
            "worker CPU s",
            "worker CPU ms/e-mail",
            "sink CPU ms/e-mail",
            "machine busy %",
            "arrived/lost/dup/stray",
            "check",
        ),
        rows,
    )
    print()
    print(f"Median of {runs} run(s), e-mails per second:")
    rows = []
    for batch in batches:
        cells = [str(batch)]
        for workers in worker_counts:
            rates = [r.rate for r in results if r.batch == batch and r.workers == workers]
            cells.append(f"{statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})")
        if len(worker_counts) > 1:
            base = statistics.median(
                r.rate for r in results if r.batch == batch and r.workers == worker_counts[0]
            )
            top = statistics.median(
                r.rate for r in results if r.batch == batch and r.workers == worker_counts[-1]
            )
            cells.append(f"{top / base:.2f}x" if base else "-")
        rows.append(tuple(cells))
    header = ["e-mails per task", *(f"{w} worker(s)" for w in worker_counts)]
    if len(worker_counts) > 1:
        header.append(f"{worker_counts[-1]} vs {worker_counts[0]}")
    common.table(tuple(header), rows)
    bad = [run for run in results if not run.ok]
    if bad:
        sys.exit(f"{len(bad)} run(s) lost, duplicated or failed e-mails: see above")


if __name__ == "__main__":
    main()
