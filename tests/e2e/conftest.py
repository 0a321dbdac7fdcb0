"""A real Shu-Kang server for browser journeys.

The site runs in its own daphne process, as in production, on its own
database (a fresh SQLite file, or a fresh PostgreSQL database when
DATABASE_URL names one) with e-mail written to files the test can read. The
test process itself never touches that database, so Playwright's event loop
and the ORM never meet.
"""

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from tests.conftest import CHROMIUM

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'e2e.sqlite3'}"
    import psycopg

    parsed = urlparse(url)
    # Unique per call: several servers (e2e, two-process tests) may run at once.
    name = f"{parsed.path.lstrip('/') or 'shukang'}_e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed._replace(path=f"/{name}").geturl()


def _drop_database(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


PASSWORD = "calm-harbour-evening-77"
# The worker as the Makefile and compose start it, polling often for quick tests.
WORKER_ARGS = [
    "db_worker",
    "--queue-name",
    "*",
    "--interval",
    "0.1",
    "--no-startup-delay",
    "--no-reload",
    "--verbosity",
    "0",
]
_people = itertools.count(1)


@dataclass
class SiteServer:
    url: str
    env: dict
    mail_dir: Path

    def person(self, role: str, name: str, *extra: str) -> str:
        """Create an account through create_account; returns its e-mail (password PASSWORD)."""
        email = f"{role}{next(_people)}@example.com"
        self.manage(
            "create_account",
            "--role",
            role,
            "--email",
            email,
            "--password",
            PASSWORD,
            "--name",
            name,
            *extra,
        )
        return email

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )

    def messages(self):
        """Every e-mail the site has sent, oldest first."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            # The file backend separates messages with a line of 79 dashes.
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    found.append(message_from_bytes(chunk.lstrip(), policy=policy.default))
        return found


def start_server(tmp: Path, extra_env: dict | None = None, database_url: str | None = None):
    port = _free_port()
    mail_dir = tmp / "mail"
    mail_dir.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url or _database_url(tmp),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
        # Journeys start with new accounts; holding every first post would make
        # each one a moderation journey. Holds for personal data still apply.
        "SHUKANG_HOLD_FIRST_POSTS": "0",
        # Patients' reports: a private folder of this server's own, shared by web and worker.
        "SHUKANG_PRIVATE_ROOT": str(tmp / "private"),
        **(extra_env or {}),
    }
    server = SiteServer(url=f"http://127.0.0.1:{port}", env=env, mail_dir=mail_dir)
    server.manage("migrate", "--noinput")
    log = (tmp / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The background worker, as `make run` and compose run it: e-mails and
    # pushes to many sockets go through the task queue.
    worker = subprocess.Popen(
        [sys.executable, "manage.py", *WORKER_ARGS],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    processes = [process, worker]
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(processes)
            raise RuntimeError(f"the site did not start; see {log.name}")
        time.sleep(0.2)
    return server, processes


def stop_server(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    database_url = _database_url(tmp)
    server, processes = start_server(tmp, database_url=database_url)
    yield server
    stop_server(processes)
    _drop_database(database_url)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: 5 s, the default, is too short
    # for a page load on a busy 2-core machine running the suite.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 780})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def new_page(browser):
    """Pages in separate browser contexts: one per person in a journey."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 360, "height": 780})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, site, email: str, password: str) -> None:
    page.goto(site.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_test_id("header-user-name").wait_for()


def ask(page, site, title: str, details: str, topic: str = "Colorectal cancer", photos=()) -> str:
    """Post a question through the ask form, with photos of reports if given.

    Returns the question page's address.
    """
    from playwright.sync_api import expect

    page.goto(site.url + "/questions/ask/")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill(details)
    page.get_by_label("Topic").select_option(label=topic)
    if photos:
        page.get_by_label("Photos of reports (optional)").set_input_files(list(photos))
    page.get_by_role("button", name="Post question").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url
