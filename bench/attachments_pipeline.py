"""A phone photo of a report, from the ask form to a safe image: request, re-encode, OCR.

Usage (from the repository root, with the project's virtualenv; about 5 minutes):

    .venv/bin/python bench/attachments_pipeline.py
    .venv/bin/python bench/attachments_pipeline.py --runs 3 --uploads 3 --photos 12 \\
        --workers 1,2 --threads unset,1
    .venv/bin/python bench/attachments_pipeline.py --quick      # a smoke run, about 2 minutes

The photo is made here with Pillow, in memory: a portrait lab report (Chinese
and English, a phone number, a record number, a table of tumour markers) in
Noto Sans CJK SC at the size a phone held over an A4 page records it (text
about 45 pixels high), on off-white paper with a little shading, sensor
noise and a 0.8 degree tilt, stored as a 4000 x 3000 JPEG (quality 92)
with the camera's Orientation 6 (held upright) and GPS EXIF: about 3.5 MB.

1. In process (`manage.py shell -c` in the copy, median of --runs):
   `imaging.inspect` (what the web request does to each file),
   `imaging.make_safe` (re-encode and thumbnail), `imaging.read_text` on the
   safe image (of which the Tesseract process itself) and `find_private`.
2. End to end, on a fresh PostgreSQL database it creates and drops
   (`shukang_bench_attach_<pid>` on 127.0.0.1:5432, user postgres): a copy
   of the working tree (or of --commit) with DJANGO_DEBUG=true,
   SHUKANG_PRIVATE_ROOT in a temporary folder and no Redis; gunicorn serving
   config.wsgi with 2 sync workers on 127.0.0.1; task workers
   (`manage.py db_worker --queue-name '*' --interval 0.1 --no-reload
   --no-startup-delay`). A patient made with `manage.py create_account`
   signs in through the login form and POSTs the ask form (multipart, the
   CSRF token from the form page) with the photo, --uploads times one after
   another, one worker idle and waiting; the clock runs from the start of
   the POST until the database shows the attachment out of "processing".
   Then --photos photos are queued in one commit (through
   `forum.services.question_create`, six to a question, as the form would)
   and drained by 1 and by 2 workers: images per minute from the commit
   until the last one settles.
3. Each of those runs once per --threads setting: "unset" leaves
   OMP_THREAD_LIMIT out of the environment of the workers (as the Docker
   image runs them), "1" caps each Tesseract process at one OpenMP thread.

The web and worker processes load bench_hooks.py, written into the copy
only: it wraps `imaging.inspect`, `make_safe`, `read_text`, `find_private`
and `pytesseract.image_to_data` from outside, and the task signals, to write
down when each started and ended (and the Tesseract process's CPU); nothing
they do changes. gunicorn serves bench_wsgi.py (config.wsgi's application,
unchanged) and the workers run bench_worker.py (manage.py with the hooks
loaded). The hooks also count OCR calls in the web processes: the upload
request must make none. Every process started here is stopped by its PID,
also on Ctrl-C and on errors, and the database is dropped.
"""

import argparse
import html
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from http.cookies import SimpleCookie
from io import BytesIO
from pathlib import Path
from statistics import NormalDist

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_servers as common  # noqa: E402  (bench/ is not a package)
from http_servers import HOST  # noqa: E402

PACKAGES = ["django", "django-tasks-db", "psycopg", "pillow", "pytesseract", "gunicorn"]
POSTGRES = "postgres://postgres@127.0.0.1:5432"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX = 2  # Noto Sans CJK SC
PASSWORD = "bench-only-passphrase-9f3a"
PER_QUESTION = 6  # attachments.services.MAX_PER_POST
# The report: (font size in pixels, text). A4 across 2,500 of the page's 3,000 pixels
# is about 12 pixels a millimetre, so 10.5 pt body text is about 45 pixels high.
REPORT = [
    (70, "上海市第一人民医院  检验报告单"),
    (46, "Shanghai First People's Hospital - Laboratory Report"),
    (46, "姓名：张伟    性别：男    年龄：62岁    科室：肿瘤内科"),
    (46, "住院号：ZY2026118342    床号：12    送检日期：2026-11-28"),
    (46, "联系电话：138 1234 5678    Tel: +86 21 6324 0090"),
    (46, "项目 Item            结果 Result    单位 Unit    参考值 Range"),
    (46, "癌胚抗原 CEA              5.2 ↑           ng/mL          0 - 5"),
    (46, "糖类抗原 CA19-9           41.7 ↑          U/mL           0 - 37"),
    (46, "甲胎蛋白 AFP              3.1             ng/mL          0 - 7"),
    (46, "白细胞 WBC                3.4 ↓           10^9/L         3.5 - 9.5"),
    (46, "血红蛋白 HGB              112 ↓           g/L            130 - 175"),
    (46, "血小板 PLT                168             10^9/L         125 - 350"),
    (46, "备注：XELOX方案第4周期后复查，请结合临床。"),
    (46, "检验者：李敏    审核者：王强    报告日期：2026-11-29 10:42"),
]
# Maps a uniform byte to sensor noise around 128 (the inverse normal CDF, sigma 6).
NOISE = [128 + round(6 * NormalDist().inv_cdf((i + 0.5) / 256)) for i in range(256)]
GPS = {1: "N", 2: (31.0, 12.0, 30.5), 3: "E", 4: (121.0, 28.0, 12.25)}
QUESTION_BODY = "My CEA went up after the fourth cycle of XELOX. Should I worry about it?"

HOOKS_MODULE = '''"""Added by bench/attachments_pipeline.py to its private copy only: timestamps."""

import json
import os
import resource
import time

import pytesseract
from django.tasks.signals import task_finished, task_started

from attachments import imaging

_out = open(os.environ["BENCH_TRACE"], "a", buffering=1)
_current = {"attachment": None}
_role = os.environ.get("BENCH_ROLE", "worker")


def _log(**fields):
    line = {"role": _role, "pid": os.getpid(), "attachment": _current["attachment"], **fields}
    _out.write(json.dumps(line) + "\\n")


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(module, name, stage):
    original = getattr(module, name)

    def timed(*args, **kwargs):
        started, cpu = time.time(), _children_cpu()
        try:
            return original(*args, **kwargs)
        finally:
            _log(stage=stage, start=started, end=time.time(), cpu=_children_cpu() - cpu)

    setattr(module, name, timed)


_timed(imaging, "inspect", "inspect")
_timed(imaging, "make_safe", "make_safe")
_timed(imaging, "read_text", "read_text")
_timed(imaging, "find_private", "find_private")
# imaging calls pytesseract.image_to_data through the module: the Tesseract process.
_timed(pytesseract, "image_to_data", "tesseract")


def _task_started(sender, task_result, **kwargs):
    _current["attachment"] = task_result.kwargs.get("attachment_id")
    _log(
        stage="task_start",
        task=task_result.task.name,
        enqueued=task_result.enqueued_at.timestamp(),
        at=time.time(),
    )


def _task_finished(sender, task_result, **kwargs):
    _log(stage="task_end", status=str(task_result.status), at=time.time())
    _current["attachment"] = None


task_started.connect(_task_started, weak=False)
task_finished.connect(_task_finished, weak=False)
'''

WSGI_MODULE = '''"""Added by bench/attachments_pipeline.py to its private copy only."""

from config.wsgi import application  # noqa: F401 - what gunicorn serves

import bench_hooks  # noqa: E402, F401
'''

WORKER_MODULE = '''"""Added by bench/attachments_pipeline.py to its private copy only: manage.py, hooks loaded."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import bench_hooks  # noqa: E402, F401
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(["manage.py", *sys.argv[1:]])
'''

IN_PROCESS = r"""
import json, os, resource, time

import pytesseract

from attachments import imaging

data = open(os.environ["BENCH_PHOTO"], "rb").read()
runs = int(os.environ["BENCH_RUNS"])
settings_ = os.environ["BENCH_THREADS"].split(",")
if not imaging.ocr_available():
    raise SystemExit("Tesseract with chi_sim and eng is not installed: nothing to measure")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


last = {}
image_to_data = pytesseract.image_to_data


def timed_image_to_data(*args, **kwargs):
    started, cpu = time.perf_counter(), children_cpu()
    try:
        return image_to_data(*args, **kwargs)
    finally:
        last["wall"], last["cpu"] = time.perf_counter() - started, children_cpu() - cpu


pytesseract.image_to_data = timed_image_to_data
keys = ("inspect", "make_safe", "read_text", "tesseract", "tesseract_cpu", "find_private")
out = {s: {"times": {k: [] for k in keys}} for s in settings_}
imaging.inspect(data, name="warm-up.jpg")  # imports and first-call costs, not timed
# The settings take turns, so a change in the machine's load falls on each alike.
for _ in range(runs):
    for setting in settings_:
        times = out[setting]["times"]
        # Tesseract, started by pytesseract, inherits this environment.
        os.environ.pop("OMP_THREAD_LIMIT", None)
        if setting != "unset":
            os.environ["OMP_THREAD_LIMIT"] = setting
        t = time.perf_counter()
        uploads = imaging.inspect(data, name="IMG_20261128_104233.jpg")
        times["inspect"].append(time.perf_counter() - t)
        t = time.perf_counter()
        safe = imaging.make_safe(data)
        times["make_safe"].append(time.perf_counter() - t)
        t = time.perf_counter()
        lines = imaging.read_text(safe.image)
        times["read_text"].append(time.perf_counter() - t)
        times["tesseract"].append(last["wall"])
        times["tesseract_cpu"].append(last["cpu"])
        t = time.perf_counter()
        regions = imaging.find_private(lines)
        times["find_private"].append(time.perf_counter() - t)
        out[setting].update(
            upload=[uploads[0].kind, uploads[0].width, uploads[0].height],
            safe=[safe.width, safe.height, len(safe.image), len(safe.thumbnail)],
            lines=len(lines),
            regions=sorted(r.kind for r in regions),
        )
print(json.dumps(out))
"""

ENQUEUE = r"""
import json, os, time

from django.db import transaction

from accounts.models import User
from attachments import imaging
from forum.models import Category
from forum.services import question_create

data = open(os.environ["BENCH_PHOTO"], "rb").read()
k, per, tag = int(os.environ["BENCH_PHOTOS"]), int(os.environ["BENCH_PER"]), os.environ["BENCH_TAG"]
author = User.objects.get(email=os.environ["BENCH_EMAIL"])
category = Category.objects.order_by("pk").first()
# What the ask form's field does to each file, before the service sees it.
upload = imaging.inspect(data, name="IMG_20261128_104233.jpg")
committed, ids = {}, []
with transaction.atomic():
    for n, start in enumerate(range(0, k, per)):
        question = question_create(
            author=author,
            title=f"CEA after the fourth cycle, report {tag} part {n + 1}",
            body=os.environ["BENCH_BODY"] + f" ({tag}, part {n + 1})",
            category=category,
            asker="self",
            merge_repeats=False,
            attachments=upload * min(per, k - start),
        )
        ids += list(question.attachments.values_list("pk", flat=True))
    transaction.on_commit(lambda: committed.setdefault("at", time.time()))
print(json.dumps({"committed": committed["at"], "ids": ids}))
"""


# Processes: every one started here is recorded, and stopped by its PID.


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log: Path
    tree: set[int] = field(default_factory=set)  # PIDs seen under it (gunicorn's, Tesseract)

    @property
    def pid(self) -> int:
        return self.process.pid


STARTED: list[Proc] = []


def start(name: str, argv: list[str], project: Path, env: dict[str, str], log: Path) -> Proc:
    process = subprocess.Popen(
        argv,
        cwd=project,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches this script, which stops them in order
    )
    proc = Proc(name, process, log)
    STARTED.append(proc)
    return proc


def stop(proc: Proc, grace: float = 30) -> None:
    """SIGTERM, SIGKILL after ``grace`` seconds; then whatever was seen under it, by PID."""
    with suppress(Exception):
        proc.tree.update(common.process_tree(proc.pid))
    if proc.process.poll() is None:
        proc.process.send_signal(signal.SIGTERM)
        try:
            proc.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait(timeout=5)
    for pid in proc.tree - {proc.pid}:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if proc in STARTED:
        STARTED.remove(proc)


def stop_all() -> None:
    for proc in reversed(list(STARTED)):
        with suppress(Exception):
            stop(proc, grace=10)


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def cpu_with_children(pid: int) -> float:
    """User + system CPU of a process and of the children it has waited for (Tesseract)."""
    with suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / common.CLOCK_TICKS
    return 0.0


def machine_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def manage(project: Path, env: dict[str, str], *command: str, timeout: int = 600) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {command[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def shell(project: Path, env: dict[str, str], script: str, **extra: str) -> dict:
    out = manage(project, {**env, **extra}, "shell", "--no-imports", "-c", script)
    return json.loads(out.strip().splitlines()[-1])


# The database


def postgres_check() -> None:
    import psycopg

    try:
        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
    except psycopg.Error as error:
        sys.exit(
            f"PostgreSQL is not reachable at {POSTGRES} ({str(error).strip()}).\n"
            "Start it (user postgres, trust authentication on 127.0.0.1) and run again."
        )


def create_database(url: str) -> None:
    conn, name = common.postgres_admin(url)
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            sys.exit(f"database {name} already exists: it is not this run's, so it is left alone")
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    conn, name = common.postgres_admin(url)
    if not name.startswith("shukang_bench_attach_"):
        raise RuntimeError(f"refusing to drop {name}")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Rows:
    """The bench's own connection to the attachments table."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def max_id(self) -> int:
        return self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM attachments_attachment"
        ).fetchone()[0]

    def settled(self, ids: list[int] | None, after: int = 0) -> dict[int, str]:
        if ids is None:
            rows = self.conn.execute(
                "SELECT id, state FROM attachments_attachment WHERE id > %s", [after]
            )
        else:
            rows = self.conn.execute(
                "SELECT id, state FROM attachments_attachment WHERE id = ANY(%s)", [ids]
            )
        return {pk: state for pk, state in rows if state != "processing"}

    def wait(
        self, ids: list[int] | None, *, after: int = 0, count: int, timeout: float
    ) -> dict[int, tuple[float, str]]:
        """Poll every 50 ms until ``count`` attachments are settled: when each was seen, its state."""
        seen: dict[int, tuple[float, str]] = {}
        deadline = time.monotonic() + timeout
        while len(seen) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {len(seen)} of {count} attachments settled in {timeout:.0f} s"
                )
            now = time.time()
            for pk, state in self.settled(ids, after).items():
                seen.setdefault(pk, (now, state))
            time.sleep(0.05)
        return seen


# The photo


def report_photo() -> bytes:
    """A 4000 x 3000 phone photo of a portrait report, held upright (Orientation 6), with GPS."""
    from PIL import ImageChops, ImageDraw, ImageFont

    if not FONT.exists():
        sys.exit(f"{FONT} is missing (apt-get install fonts-noto-cjk)")
    width, height = 3000, 4000
    page = Image.new("RGB", (width, height), (244, 241, 232))
    draw = ImageDraw.Draw(page)
    y = 420
    for number, (size, text) in enumerate(REPORT):
        font = ImageFont.truetype(str(FONT), size, index=FONT_INDEX)
        draw.text((260, y), text, fill=(28, 28, 30), font=font)
        if number == 4:
            draw.line((260, y + 80, width - 260, y + 80), fill=(60, 60, 60), width=4)
        y += round(size * 2.1)
    # Light falling off towards the corners, sensor noise, the page not quite square.
    shade = Image.radial_gradient("L").resize((width, height)).point(lambda v: 255 - v // 6)
    page = ImageChops.multiply(page, Image.merge("RGB", [shade] * 3))
    noise = Image.frombytes("L", (width, height), random.Random(13).randbytes(width * height))
    noise = noise.point(
        NOISE
    )  # uniform bytes to a normal distribution, sigma 6: always the same photo
    page = ImageChops.add(page, Image.merge("RGB", [noise] * 3), offset=-128)
    page = page.rotate(0.8, resample=Image.Resampling.BICUBIC, fillcolor=(90, 80, 70))
    stored = page.transpose(Image.Transpose.ROTATE_90)  # the sensor's landscape 4000 x 3000
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel 12"
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    exif[0x0132] = "2026:11:28 10:42:33"
    exif[0x8825] = GPS
    buffer = BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes(), quality=92)
    return buffer.getvalue()


# HTTP as the patient


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


class Browser:
    """Cookies kept by hand (127.0.0.1 is an address, not a domain), redirects not followed."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, path: str, *, body: bytes | None = None, content_type: str = ""):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with OPENER.open(request, timeout=120) as response:
                status, headers, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, text = error.code, error.headers, error.read()
        for header in headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header.split(";", 1)[0])
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return status, headers, text.decode(errors="replace")

    def form(self, path: str) -> tuple[str, str]:
        status, _headers, page = self.request(path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}:\n{page[:2000]}")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not found:
            raise RuntimeError(f"no CSRF token on {path}")
        return found.group(1), page

    def post(self, path: str, fields: dict[str, str], files=()) -> tuple[int, str, float]:
        """POST as multipart; the status, the Location and the seconds it took."""
        boundary = "----bench" + secrets.token_hex(12)
        body = BytesIO()
        for name, value in fields.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            )
            body.write(f"{value}\r\n".encode())
        for name, filename, data in files:
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            )
            body.write(data + b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        started = time.perf_counter()
        status, headers, text = self.request(
            path, body=body.getvalue(), content_type=f"multipart/form-data; boundary={boundary}"
        )
        seconds = time.perf_counter() - started
        if status != 302:
            raise RuntimeError(f"{path} answered {status}, not a redirect: {page_summary(text)}")
        return status, headers.get("Location") or "", seconds


def page_summary(page: str) -> str:
    """What went wrong, from Django's debug page or a form's errors, in a few lines."""
    found = re.search(r'<pre class="exception_value">(.*?)</pre>', page, re.S)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
    parts = [" ".join(m.split()) for m in [title and title.group(1), found and found.group(1)] if m]
    parts += [re.sub(r"<[^>]+>", " ", e).strip() for e in errors]
    return html.unescape(" | ".join(parts))[:2000] or page[:2000]


def sign_in(browser: Browser, email: str) -> None:
    token, _page = browser.form("/accounts/login/")
    browser.post(
        "/accounts/login/", {"csrfmiddlewaretoken": token, "login": email, "password": PASSWORD}
    )
    if "sessionid" not in browser.cookies:
        raise RuntimeError(f"{email} could not sign in")


# Reading the traces


@dataclass
class Trace:
    """What the hooks wrote about one attachment's task, in seconds since the epoch."""

    attachment: int
    pid: int = 0
    enqueued: float = 0.0
    start: float = 0.0
    end: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    tesseract_cpu: float = 0.0

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def other(self) -> float:
        """The task's time besides re-encoding and OCR: reading, storing, the database."""
        known = ("make_safe", "read_text", "find_private")
        return self.seconds - sum(self.steps.get(step, 0.0) for step in known)


def read_traces(path: Path) -> tuple[dict[int, Trace], list[dict]]:
    """Attachment tasks by attachment id, and what the web processes did."""
    tasks: dict[int, Trace] = {}
    web: list[dict] = []
    if not path.exists():
        return tasks, web
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        pk = entry.get("attachment")
        if entry["role"] == "web":
            web.append(entry)
            continue
        if pk is None:  # another task (a notification), or none
            continue
        trace = tasks.setdefault(pk, Trace(pk))
        stage = entry["stage"]
        if stage == "task_start":
            trace.pid, trace.enqueued, trace.start = entry["pid"], entry["enqueued"], entry["at"]
        elif stage == "task_end":
            trace.end = entry["at"]
        else:
            trace.steps[stage] = trace.steps.get(stage, 0.0) + entry["end"] - entry["start"]
            if stage == "tesseract":
                trace.tesseract_cpu += entry["cpu"]
    return tasks, web


# The runs


@dataclass
class Upload:
    threads: str
    request: float  # the POST, as the browser waits for it
    started: float  # when the POST began (epoch)
    answered: float  # when its response arrived (epoch)
    settled: float  # when the bench saw the attachment out of "processing" (epoch)
    state: str
    attachment: int
    load: str = ""  # 1-minute load average just before
    inspect: float = 0.0  # imaging.inspect inside that request, from the web hooks
    trace: Trace | None = None

    @property
    def total(self) -> float:
        return self.settled - self.started


@dataclass
class Drain:
    threads: str
    workers: int
    photos: int
    committed: float = 0.0
    settled: dict[int, tuple[float, str]] = field(default_factory=dict)
    worker_cpu: list[float] = field(default_factory=list)
    busy: float = 0.0
    load: str = ""  # 1-minute load average just before
    ids: list[int] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(at for at, _state in self.settled.values()) - self.committed

    @property
    def per_minute(self) -> float:
        return 60 * len(self.settled) / self.seconds

    @property
    def first(self) -> float:
        return min(at for at, _state in self.settled.values()) - self.committed


def worker_env(env: dict[str, str], threads: str) -> dict[str, str]:
    env = {k: v for k, v in env.items() if k not in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS")}
    if threads != "unset":
        env["OMP_THREAD_LIMIT"] = threads
    return env


def start_workers(
    project: Path, env: dict[str, str], workdir: Path, n: int, tag: str
) -> list[Proc]:
    argv = [sys.executable, "bench_worker.py", "db_worker", "--queue-name", "*"]
    argv += ["--interval", "0.1", "--no-reload", "--no-startup-delay"]
    workers = [
        start(f"worker {i + 1}", argv, project, env, workdir / f"worker-{tag}-{i + 1}.log")
        for i in range(n)
    ]
    deadline = time.monotonic() + 60
    for worker in workers:
        while "Starting worker" not in worker.log.read_text(errors="replace"):
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a worker did not start:\n{worker.log.read_text()[-2000:]}")
            time.sleep(0.1)
    return workers


def upload_once(
    browser: Browser, rows: Rows, photo: bytes, category: str, threads: str, n: int, timeout: float
) -> Upload:
    token, _page = browser.form("/questions/ask/")
    before = rows.max_id()
    load = load_average().split()[0]
    fields = {
        "csrfmiddlewaretoken": token,
        "title": f"CEA after the fourth cycle of XELOX, report {threads}-{n}",
        "body": f"{QUESTION_BODY} (photo {threads}-{n})",
        "category": category,
        "tags": "",
        "asker": "self",
    }
    started = time.time()
    _status, _location, seconds = browser.post(
        "/questions/ask/", fields, [("attachments", "IMG_20261128_104233.jpg", photo)]
    )
    answered = time.time()
    seen = rows.wait(None, after=before, count=1, timeout=timeout)
    (pk, (settled, state)), *more = seen.items()
    if more:
        raise RuntimeError("one upload made more than one attachment")
    return Upload(threads, seconds, started, answered, settled, state, pk, load)


def drain(
    project: Path,
    env: dict[str, str],
    rows: Rows,
    workers: list[Proc],
    run: Drain,
    photo_path: Path,
    email: str,
    timeout: float,
) -> Drain:
    run.load = load_average().split()[0]
    cpu = [cpu_with_children(w.pid) for w in workers]
    busy = machine_busy()
    queued = shell(
        project,
        env,
        ENQUEUE,
        BENCH_PHOTO=str(photo_path),
        BENCH_PHOTOS=str(run.photos),
        BENCH_PER=str(PER_QUESTION),
        BENCH_TAG=f"{run.threads}-w{run.workers}",
        BENCH_EMAIL=email,
        BENCH_BODY=QUESTION_BODY,
    )
    run.committed = queued["committed"]
    run.settled = rows.wait(queued["ids"], count=len(queued["ids"]), timeout=timeout)
    busy_end = machine_busy()
    for w in workers:
        w.tree.update(common.process_tree(w.pid))
    run.worker_cpu = [cpu_with_children(w.pid) - c for w, c in zip(workers, cpu, strict=True)]
    run.busy = (busy_end[0] - busy[0]) / max(busy_end[1] - busy[1], 1)
    run.ids = queued["ids"]
    return run


# Report


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    if not values:
        return "-"
    m = median(values) * scale
    if len(values) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f})"


def label(threads: str) -> str:
    return "OMP_THREAD_LIMIT unset" if threads == "unset" else f"OMP_THREAD_LIMIT={threads}"


def report(
    setup: dict, in_process: dict, uploads: list[Upload], drains: list[Drain], web: list[dict]
) -> bool:
    threads = setup["threads"]
    print(f"machine: {common.machine(PACKAGES)}")
    code, _sep, changed = setup["code"].partition(", uncommitted: ")
    if changed:
        files = changed.split(", ")
        folders = sorted({f.split("/", 1)[0] + ("/" if "/" in f else "") for f in files})
        code += f", {len(files)} files uncommitted in {', '.join(folders)}"
    print(f"code: {code}")
    print(f"date: {date.today().isoformat()}")
    print(f"load average at start {setup['load_start']}, at end {setup['load_end']}")
    print(
        f"setup: PostgreSQL ({setup['database']}), DJANGO_DEBUG=true, gunicorn config.wsgi 2 sync "
        f"workers on {HOST}, db_worker --interval 0.1, no Redis; {setup['seconds']:.0f} s in all"
    )
    first = next(iter(in_process.values()))
    kind, width, height = first["upload"]
    safe_w, safe_h, safe_bytes, thumb_bytes = first["safe"]
    stored_w, stored_h = setup["stored"]
    print(
        f"photo: {kind.upper()} stored {stored_w} x {stored_h} (shown {width} x {height}), "
        f"{setup['photo_bytes'] / 1e6:.2f} MB, GPS EXIF; safe image {safe_w} x {safe_h} "
        f"{safe_bytes / 1e6:.2f} MB, thumbnail {thumb_bytes / 1e3:.0f} kB"
    )
    for t in threads:
        found = ", ".join(in_process[t]["regions"]) or "nothing"
        print(f"OCR, {label(t)}: {in_process[t]['lines']} lines read, found {found}")
    print()
    runs = len(first["times"]["inspect"])
    print(f"In process, one call at a time (ms, median of {runs}, range in brackets):")
    header = ("step", *(label(t) for t in threads))
    steps = [
        ("inspect (in the web request)", "inspect"),
        ("make_safe (re-encode + thumbnail)", "make_safe"),
        ("read_text (OCR)", "read_text"),
        ("  of which pytesseract (PNG out, Tesseract, TSV in)", "tesseract"),
        ("  Tesseract process CPU", "tesseract_cpu"),
        ("find_private", "find_private"),
    ]
    rows = [
        (name, *(spread(in_process[t]["times"][key], 1000, 0) for t in threads))
        for name, key in steps
    ]
    common.table(header, rows)
    print()

    print("One photo through the ask form, 1 worker waiting (seconds):")
    rows = []
    for u in uploads:
        t = u.trace
        rows.append(
            (
                label(u.threads),
                f"{u.request:.3f}",
                f"{u.inspect:.3f}",
                f"{t.start - u.answered:.2f}" if t else "-",
                f"{t.steps.get('make_safe', 0):.2f}" if t else "-",
                f"{t.steps.get('read_text', 0) + t.steps.get('find_private', 0):.2f}" if t else "-",
                f"{t.steps.get('tesseract', 0):.2f}" if t else "-",
                f"{t.other:.2f}" if t else "-",
                f"{u.total:.2f}",
                u.state,
                u.load,
            )
        )
    common.table(
        (
            "Tesseract threads",
            "upload request",
            "of which inspect",
            "queue wait",
            "re-encode",
            "OCR",
            "of which pytesseract",
            "other worker",
            "upload to settled",
            "state",
            "load",
        ),
        rows,
    )
    print()
    print("Medians per setting:")
    rows = []
    for t in threads:
        mine = [u for u in uploads if u.threads == t]
        traced = [u.trace for u in mine if u.trace]
        rows.append(
            (
                label(t),
                str(len(mine)),
                spread([u.request for u in mine], 1, 3),
                spread([x.steps.get("make_safe", 0) for x in traced]),
                spread(
                    [x.steps.get("read_text", 0) + x.steps.get("find_private", 0) for x in traced]
                ),
                spread([u.total for u in mine]),
            )
        )
    common.table(
        (
            "Tesseract threads",
            "uploads",
            "request s",
            "re-encode s",
            "OCR s",
            "upload to settled s",
        ),
        rows,
    )
    inspects = [e for e in web if e["stage"] == "inspect"]
    ocr_in_web = [e for e in web if e["stage"] in ("read_text", "tesseract", "make_safe")]
    print(
        f"web processes: {len(inspects)} inspect calls, {len(ocr_in_web)} make_safe/read_text/"
        f"Tesseract calls ({'none: the request does not OCR' if not ocr_in_web else 'PROBLEM'})"
    )
    print()

    photos = drains[0].photos if drains else 0
    print(f"Throughput: {photos} photos queued in one commit, drained by the workers:")
    rows = []
    for d in drains:
        per_worker: dict[int, int] = {}
        for x in d.traces:
            per_worker[x.pid] = per_worker.get(x.pid, 0) + 1
        rows.append(
            (
                label(d.threads),
                str(d.workers),
                f"{d.per_minute:.1f}",
                f"{d.seconds:.1f}",
                f"{d.first:.1f}",
                spread([x.steps.get("make_safe", 0) for x in d.traces]),
                spread(
                    [x.steps.get("read_text", 0) + x.steps.get("find_private", 0) for x in d.traces]
                ),
                f"{sum(d.worker_cpu) / max(len(d.settled), 1):.2f}",
                " + ".join(str(v) for v in sorted(per_worker.values(), reverse=True)),
                f"{100 * d.busy:.0f}",
                ", ".join(
                    f"{state} {sum(1 for _a, s in d.settled.values() if s == state)}"
                    for state in sorted({s for _a, s in d.settled.values()})
                ),
                d.load,
            )
        )
    common.table(
        (
            "Tesseract threads",
            "workers",
            "images/min",
            "drain s",
            "first s",
            "re-encode s/image",
            "OCR s/image",
            "worker CPU s/image",
            "images per worker",
            "machine busy %",
            "states",
            "load",
        ),
        rows,
    )
    for t in threads:
        mine = {d.workers: d for d in drains if d.threads == t}
        counts = sorted(mine)
        if len(counts) > 1:
            print(
                f"{label(t)}: {counts[-1]} vs {counts[0]} worker(s) "
                f"{mine[counts[-1]].per_minute / mine[counts[0]].per_minute:.2f}x"
            )
    problems = bool(ocr_in_web) or any(u.trace is None for u in uploads)
    problems |= any(s in ("failed", "processing") for d in drains for _a, s in d.settled.values())
    problems |= any(u.state in ("failed", "processing") for u in uploads)
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--commit", help="measure this commit (git archive) instead of the working tree"
    )
    parser.add_argument("--runs", type=int, default=3, help="in-process runs of each step")
    parser.add_argument(
        "--uploads", type=int, default=3, help="ask-form uploads per --threads setting"
    )
    parser.add_argument(
        "--photos", type=int, default=12, help="photos queued at once for throughput"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument(
        "--threads",
        default="unset,1",
        help="OMP_THREAD_LIMIT for Tesseract, comma-separated; 'unset' as the Docker image runs",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for one drain"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 run, 1 upload, 2 photos"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, traces)"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.uploads, args.photos = 1, 1, 2
    runs = max(1, min(args.runs, 20))
    uploads_per = max(1, min(args.uploads, 4))  # the question rate limit: 5 an hour an account
    photos = max(1, min(args.photos, 4 * PER_QUESTION))  # and 5 per process for the queueing shell
    worker_counts = [max(1, min(int(w), 4)) for w in args.workers.split(",")]
    threads = [t.strip() for t in args.threads.split(",")]
    for t in threads:
        if t != "unset" and not t.isdigit():
            sys.exit(f"--threads takes 'unset' or a number, not {t!r}")

    load_start = load_average()
    print(f"load average at start: {load_start}", file=sys.stderr, flush=True)
    postgres_check()
    if shutil.which("tesseract") is None:
        sys.exit("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    signal.signal(signal.SIGTERM, on_sigterm)

    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="shukang-attach-"))
    database = f"shukang_bench_attach_{os.getpid()}"
    database_url = f"{POSTGRES}/{database}"
    trace_path = workdir / "trace.jsonl"
    uploads: list[Upload] = []
    drains: list[Drain] = []
    in_process: dict[str, dict] = {}
    created = False
    ok = False
    try:
        print("... making the photo", file=sys.stderr, flush=True)
        photo = report_photo()
        with Image.open(BytesIO(photo)) as image:
            stored = image.size
        photo_path = workdir / "photo.jpg"
        photo_path.write_bytes(photo)

        env = common.bench_environment(workdir)
        env.update(
            DATABASE_URL=database_url,
            DJANGO_DEBUG="true",
            DJANGO_ALLOWED_HOSTS=HOST,
            SHUKANG_PRIVATE_ROOT=str(workdir / "private"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            BENCH_TRACE=str(trace_path),
            PYTHONUNBUFFERED="1",
        )
        env.pop("REDIS_URL", None)
        env = worker_env(env, "unset")

        print(
            "... copying the project, creating the database, migrate", file=sys.stderr, flush=True
        )
        project = workdir / "project"
        code = common.copy_project(project, args.commit)
        (project / "bench_hooks.py").write_text(HOOKS_MODULE)
        (project / "bench_wsgi.py").write_text(WSGI_MODULE)
        (project / "bench_worker.py").write_text(WORKER_MODULE)
        create_database(database_url)
        created = True
        manage(project, env, "migrate", "--noinput", "-v0")
        emails = {t: f"patient-{t}@bench.invalid" for t in threads}
        emails["queue"] = "patient-queue@bench.invalid"
        for who, email in emails.items():
            manage(
                project,
                env,
                "create_account",
                "--role",
                "patient",
                "--email",
                email,
                "--password",
                PASSWORD,
                "--name",
                f"Bench patient {who}",
            )

        print(f"... in process, {runs} run(s) of each setting", file=sys.stderr, flush=True)
        in_process = shell(
            project,
            env,
            IN_PROCESS,
            BENCH_PHOTO=str(photo_path),
            BENCH_RUNS=str(runs),
            BENCH_THREADS=",".join(threads),
        )

        print("... gunicorn, signing in", file=sys.stderr, flush=True)
        port = common.free_port()
        web = start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench_wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "2",
                "--worker-tmp-dir",
                "/dev/shm",  # noqa: S108 - as the Dockerfile runs gunicorn
                "--no-control-socket",
                "--log-level",
                "warning",
            ],
            project,
            {**env, "BENCH_ROLE": "web"},
            workdir / "gunicorn.log",
        )
        common.wait_until_serving(port, web.process)
        web.tree.update(common.process_tree(web.pid))
        rows = Rows(database_url)
        browsers = {}
        category = ""
        for t in threads:
            browser = Browser(f"http://{HOST}:{port}")
            sign_in(browser, emails[t])
            for _ in range(4):  # both gunicorn workers import the ask form's modules
                _token, page = browser.form("/questions/ask/")
            found = re.search(r'<select name="category"[^>]*>.*?<option value="(\d+)"', page, re.S)
            if not found:
                raise RuntimeError("no category on the ask form")
            category = found.group(1)
            browsers[t] = browser

        for t in threads:
            tenv = worker_env(env, t)
            print(f"... {label(t)}: {uploads_per} upload(s), 1 worker", file=sys.stderr, flush=True)
            workers = start_workers(project, tenv, workdir, 1, f"{t}-uploads")
            for n in range(uploads_per):
                uploads.append(
                    upload_once(browsers[t], rows, photo, category, t, n + 1, args.timeout)
                )
                print(
                    f"    upload to settled {uploads[-1].total:.2f} s", file=sys.stderr, flush=True
                )
            for count in worker_counts:
                if count != len(workers):
                    for worker in workers:
                        stop(worker)
                    workers = start_workers(project, tenv, workdir, count, f"{t}-w{count}")
                print(
                    f"... {label(t)}: {photos} photos, {count} worker(s)",
                    file=sys.stderr,
                    flush=True,
                )
                run = drain(
                    project,
                    env,
                    rows,
                    workers,
                    Drain(t, count, photos),
                    photo_path,
                    emails["queue"],
                    args.timeout,
                )
                drains.append(run)
                print(f"    {run.per_minute:.1f} images/min", file=sys.stderr, flush=True)
            for worker in workers:
                stop(worker)
        stop_all()
        load_end = load_average()

        tasks, web_entries = read_traces(trace_path)
        inspects = sorted(
            (e for e in web_entries if e["stage"] == "inspect"), key=lambda e: e["start"]
        )
        for u in uploads:
            u.trace = tasks.get(u.attachment)
            inside = [e for e in inspects if u.started <= e["start"] <= u.answered]
            u.inspect = sum(e["end"] - e["start"] for e in inside)
        for d in drains:
            d.traces = [tasks[pk] for pk in d.ids if pk in tasks]
        setup = {
            "threads": threads,
            "code": code,
            "load_start": load_start,
            "load_end": load_end,
            "database": database,
            "seconds": time.monotonic() - began,
            "photo_bytes": len(photo),
            "stored": stored,
        }
        print(file=sys.stderr)
        ok = report(setup, in_process, uploads, drains, web_entries)
    finally:
        stop_all()
        if created:
            with suppress(Exception):
                drop_database(database_url)
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not ok:
        sys.exit("a photo failed, never settled, or was OCRed in the web request: see above")


if __name__ == "__main__":
    main()
