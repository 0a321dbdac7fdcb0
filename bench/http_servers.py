"""Serve the same pages through WSGI and ASGI servers and compare their cost.

Usage (from the repository root, with the project's virtualenv):

    .venv/bin/python bench/http_servers.py [--duration 4] [--rounds 3] [--connections 16]

Each server runs this project on a private copy of the working tree (so that
collectstatic and the compiled catalogues land there, not in the repository)
with production settings (DJANGO_DEBUG=false, manifest static storage) on a
fresh SQLite database prepared with migrate and seed_demo. Everything listens
on 127.0.0.1 only. Load comes from wrk when it is installed (apt-get install
wrk), else from a small threaded Python client, which is slower and shares the
CPU with the server; say which one was used when quoting figures.

Figures per server and page: requests per second (the machine is shared with
the load generator, so this is the noisy number) and server CPU per request
(user + system time of the server's whole process tree divided by the requests
served: the steady number). Each figure is the median of --rounds runs.

Servers: gunicorn with 2 sync workers (WSGI), daphne in one process (ASGI),
and uvicorn with 2 workers (ASGI) when uvicorn is importable; it is not a
project requirement, so install it into the virtualenv to include it.
"""

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from http.client import HTTPConnection
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# Two real pages, and one static file that WhiteNoise answers before any view
# runs: the last shows what the server itself costs per request.
PAGES = ["/", "/doctors/"]
STATIC_PROBE = "css/site.css"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Kept out of the private copy: the virtualenv is used in place, and local
# databases, collected files and compiled catalogues would skew the setup.
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.pyc",
    "db.sqlite3*",
    "staticfiles",
    "*.mo",
    ".pytest_cache",
    ".ruff_cache",
    "test-results",
    "node_modules",
    ".env",
)


@dataclass
class Server:
    name: str
    argv: list[str]


@dataclass
class Sample:
    requests: int
    seconds: float
    errors: int
    cpu_seconds: float
    p50_ms: float | None
    p99_ms: float | None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(self.requests, 1)


def machine(packages: list[str]) -> str:
    """The machine and the versions a benchmark's figures depend on, in one line."""
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    return f"{os.cpu_count()} cores, {cpu_model}; Python {platform.python_version()}; {versions}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Print a Markdown table, its columns padded to line up."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print(line(row))


def postgres_admin(url: str):
    """A connection to the server's maintenance database, and the database name in url."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        sys.exit(f"--database-url must end in a plain database name, not {name!r}")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("--database-url must point at a server on this machine")
    conn = psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )
    return conn, name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def servers(port: int) -> list[Server]:
    py = sys.executable
    found = [
        Server(
            "gunicorn WSGI, 2 sync workers",
            [
                py,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "2",
                "--no-control-socket",
                "--log-level",
                "warning",
            ],
        ),
        Server(
            "daphne ASGI, 1 process",
            [py, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", "config.asgi:application"],
        ),
    ]
    if importlib.util.find_spec("uvicorn"):
        found.append(
            Server(
                "uvicorn ASGI, 2 workers",
                [
                    py,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
            )
        )
    return found


def bench_environment(workdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-throwaway-key-not-a-secret-0123456789abcdef",
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout


def copy_project(
    project: Path, commit: str | None, *, scripts: tuple[str, ...] = (), patch: Path | None = None
) -> str:
    """Copy the working tree, or a commit, to project; say which code it is.

    ``scripts`` are files of bench/ that the copy of a commit takes from the
    working tree, since the benchmark's own scripts may not be committed yet.
    ``patch`` (a diff from the repository's root) is applied to the copy of
    a commit: a change measured before it is committed.
    """
    head = git("rev-parse", "--short", commit or "HEAD").strip()
    if patch is not None:
        if not commit:
            sys.exit("a patch applies to a commit: give --commit too")
        code = copy_project(project, commit, scripts=scripts)
        subprocess.run(["git", "apply", str(patch.resolve())], cwd=project, check=True)
        return f"{code}, with {patch.name} applied"
    if not commit:
        changed = sorted(
            line[3:]
            for line in git("status", "--porcelain", "--untracked-files=all").splitlines()
            if not line[3:].startswith("bench/")
        )
        shutil.copytree(REPO, project, ignore=COPY_IGNORE)
        if not changed:
            return f"working tree = commit {head}"
        return f"working tree on commit {head}, uncommitted: {', '.join(changed)}"
    project.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", head], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(project)], input=archive, check=True)
    for script in scripts:
        (project / "bench").mkdir(exist_ok=True)
        shutil.copy2(REPO / "bench" / script, project / "bench" / script)
    return f"commit {head} (git archive), bench/ from the working tree"


def prepare(workdir: Path, env: dict[str, str]) -> tuple[Path, list[str]]:
    """Copy the project, build its static files and catalogues, seed a database.

    Return the copy and the paths to load.
    """
    project = workdir / "project"
    shutil.copytree(REPO, project, ignore=COPY_IGNORE)
    for command in (
        ["compiletranslations"],
        ["collectstatic", "--noinput", "-v0"],
        ["migrate", "--noinput", "-v0"],
        ["seed_demo"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=project,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
    manifest = json.loads((project / "staticfiles" / "staticfiles.json").read_text())
    return project, [*PAGES, "/static/" + manifest["paths"][STATIC_PROBE]]


def process_tree(root: int) -> list[int]:
    """The root PID and every descendant, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the live processes among pids."""
    ticks = 0
    for pid in pids:
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} during start-up")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise RuntimeError("server did not answer /healthz in time")


def check_page(port: int, path: str) -> int:
    """Fetch a page once; fail unless it is a 200. Return its size."""
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return len(response.read())


def stop(process: subprocess.Popen, pids: list[int]) -> None:
    """Stop the server started here, then any of its processes still alive."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for pid in pids:
        if pid != process.pid:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def parse_wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def load_wrk(url: str, seconds: int, connections: int) -> tuple[int, float, int, float, float]:
    """Run wrk; return requests, seconds, errors, p50 and p99 in milliseconds."""
    result = subprocess.run(
        ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    out = result.stdout
    found = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    requests, elapsed = int(found.group(1)), parse_wrk_ms(found.group(2)) / 1000
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    p50 = parse_wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = parse_wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    return requests, elapsed, errors, p50, p99


def load_python(url: str, seconds: int, connections: int) -> tuple[int, float, int, float, float]:
    """Keep-alive GETs from threads for a fixed time; the fallback without wrk."""
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    started = time.monotonic()
    deadline = started + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client():
        conn = HTTPConnection(host, int(port), timeout=10)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", "/" + path)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
            except OSError:
                failed += 1
                conn.close()
                conn = HTTPConnection(host, int(port), timeout=10)
                continue
            mine.append(1000 * (time.perf_counter() - started))
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return len(latencies), time.monotonic() - started, errors[0], pick(0.50), pick(0.99)


def measure(load, url: str, pids: list[int], seconds: int, connections: int) -> Sample:
    cpu_before = cpu_seconds(pids)
    requests, elapsed, errors, p50, p99 = load(url, seconds, connections)
    return Sample(requests, elapsed, errors, cpu_seconds(pids) - cpu_before, p50, p99)


def run_server(
    server: Server,
    project: Path,
    env: dict[str, str],
    port: int,
    paths: list[str],
    load,
    args: argparse.Namespace,
    log_dir: Path,
) -> dict[str, tuple[list[Sample], int]]:
    log = (log_dir / f"{server.argv[2]}.log").open("w")
    process = subprocess.Popen(
        server.argv,
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pids = [process.pid]
    try:
        wait_until_serving(port, process)
        # Workers are up once /healthz answers; gunicorn and uvicorn fork them.
        time.sleep(1)
        pids = process_tree(process.pid)
        results = {}
        for path in paths:
            size = check_page(port, path)
            url = f"http://{HOST}:{port}{path}"
            load(url, args.warmup, args.connections)
            samples = [
                measure(load, url, pids, args.duration, args.connections)
                for _ in range(args.rounds)
            ]
            results[path] = (samples, size)
        return results
    finally:
        stop(process, pids)
        log.close()


def median(samples: list[Sample], attribute: str) -> float:
    return statistics.median(getattr(sample, attribute) for sample in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--python-client", action="store_true", help="ignore wrk even if installed")
    args = parser.parse_args()

    load = load_wrk if shutil.which("wrk") and not args.python_client else load_python
    workdir = Path(tempfile.mkdtemp(prefix="shukang-bench-"))
    try:
        env = bench_environment(workdir)
        project, paths = prepare(workdir, env)
        port = free_port()
        table = []
        for server in servers(port):
            print(f"... {server.name}", file=sys.stderr, flush=True)
            results = run_server(server, project, env, port, paths, load, args, workdir)
            for path, (samples, size) in results.items():
                table.append((server.name, path, size, samples))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    packages = ["django", "gunicorn", "daphne", "channels"] + (
        ["uvicorn"] if importlib.util.find_spec("uvicorn") else []
    )
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model}; Python {platform.python_version()}; "
        + ", ".join(f"{name} {version(name)}" for name in packages)
    )
    print(
        f"load: {'wrk' if load is load_wrk else 'python threads'}, {args.connections} "
        f"connections, {args.rounds} x {args.duration:g} s per page after {args.warmup:g} s "
        "warm-up; medians"
    )
    print()
    header = ("server", "page", "bytes", "req/s", "CPU ms/req", "p50 ms", "p99 ms", "errors")
    rows = [
        (
            name,
            path,
            str(size),
            f"{median(samples, 'rps'):.0f}",
            f"{median(samples, 'cpu_ms_per_request'):.2f}",
            f"{median(samples, 'p50_ms'):.1f}",
            f"{median(samples, 'p99_ms'):.1f}",
            str(sum(sample.errors for sample in samples)),
        )
        for name, path, size, samples in table
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(header))
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print(line(row))
    if any(row[-1] != "0" for row in rows):
        sys.exit("some requests failed: see the errors column")


if __name__ == "__main__":
    main()
