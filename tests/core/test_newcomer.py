"""A newcomer's first steps: the README's commands on a fresh clone, the favicon, the bell."""

import fnmatch
import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.checks.mail import NON_PRODUCTION_EMAIL_BACKENDS
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static

from config import envfile

REPO = Path(settings.BASE_DIR)
PASSWORD = "quiet-river-morning-42"


def bare_environment() -> dict:
    """A new terminal's environment: none of the project's variables."""
    prefixes = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_", "SHUKANG_", "MAKE", "MFLAGS")
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


@pytest.fixture
def fresh_clone(tmp_path):
    """The working tree as `git clone` leaves it, sharing this virtualenv."""
    root = tmp_path / "shukang"
    shutil.copytree(
        REPO,
        root,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            ".env",
            ".env.local",
            "db.sqlite3*",
            "staticfiles",
            "sent-mail",
            "test-results",
            "__pycache__",
            ".pytest_cache",
            ".ruff_cache",
            "*.mo",
            "tests",
            "bench",
            "docs",
        ),
    )
    (root / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    return root


def manage(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(root / ".venv" / "bin" / "python"), "manage.py", *args],
        cwd=root,
        env=bare_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )


ACCOUNT = ["create_account", "--role", "patient", "--email", "new@example.com", "--password"]


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_readme_account_command_works_on_a_fresh_clone_after_make(fresh_clone):
    made = subprocess.run(
        ["make", "--no-print-directory", ".env.local"],
        cwd=fresh_clone,
        env=bare_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    local = fresh_clone / ".env.local"
    values = envfile.parse(local.read_text())
    assert values["DJANGO_DEBUG"] == "true"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    # The key is this developer's alone.
    assert stat.S_IMODE(local.stat().st_mode) == 0o600

    assert manage(fresh_clone, "migrate", "-v0").returncode == 0
    created = manage(fresh_clone, *ACCOUNT, PASSWORD)
    assert created.returncode == 0, created.stderr
    assert "new@example.com" in created.stdout

    # Written once: a second `make` keeps the developer's key.
    subprocess.run(
        ["make", ".env.local"],
        cwd=fresh_clone,
        env=bare_environment(),
        check=True,
        capture_output=True,
    )
    assert envfile.parse(local.read_text()) == values


def test_without_the_env_file_manage_py_refuses_in_one_clear_line(fresh_clone):
    # Production's case too: DEBUG off and no secret key must not start.
    result = manage(fresh_clone, *ACCOUNT, PASSWORD)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DJANGO_SECRET_KEY is not set" in lines[0] and ".env.local" in lines[0]


def test_the_environment_wins_over_the_env_file(tmp_path):
    path = tmp_path / ".env.local"
    path.write_text("DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=from-the-file\n")
    environ = {"DJANGO_DEBUG": "false"}
    envfile.load(path, environ)
    assert environ == {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "from-the-file"}


def test_a_missing_env_file_or_an_empty_path_changes_nothing(tmp_path):
    environ = {}
    envfile.load(tmp_path / "absent", environ)
    envfile.load("", environ)
    assert environ == {}


def test_env_file_lines_read_like_the_common_dotenv_format():
    text = """
# a comment
export DJANGO_DEBUG=true
PLAIN = a value with spaces   # and a comment
DOUBLE="quoted # not a comment"
SINGLE='single'  # a comment
HASH=abc#def
EMPTY=
"""
    assert envfile.parse(text) == {
        "DJANGO_DEBUG": "true",
        "PLAIN": "a value with spaces",
        "DOUBLE": "quoted # not a comment",
        "SINGLE": "single",
        "HASH": "abc#def",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["just words", 'OPEN="unclosed', "1ST=digit first"])
def test_a_malformed_env_file_line_is_named(tmp_path, line):
    path = tmp_path / ".env.local"
    path.write_text(f"GOOD=1\n{line}\n")
    with pytest.raises(ImproperlyConfigured, match="line 2"):
        envfile.load(path, {})


def test_the_image_and_git_leave_the_env_files_out():
    dockerignore = (REPO / ".dockerignore").read_text().split()
    assert any(fnmatch.fnmatch(".env.local", pattern) for pattern in dockerignore)
    assert ".env.local" in (REPO / ".gitignore").read_text().split()


def test_env_example_reads_with_the_settings_parser_and_says_which_mail_backends_deploy():
    text = (REPO / ".env.example").read_text()
    values = envfile.parse(text)
    assert values["EMAIL_BACKEND"] not in NON_PRODUCTION_EMAIL_BACKENDS
    comment = text.split("\nEMAIL_BACKEND=")[0].rsplit("\n\n", 1)[-1].split("\n")[-3:]
    comment = " ".join(comment)
    assert "check --deploy" in comment and "mail.E001" in comment
    for backend in NON_PRODUCTION_EMAIL_BACKENDS:
        assert backend.split(".")[-2] in comment


def test_readme_says_to_collect_static_files_outside_docker():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Deploying without docker", 1)[1].split("\n## ", 1)[0]
    assert "manage.py collectstatic --noinput" in section
    assert "DJANGO_DEBUG=false" in section


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_site_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.svg")
    # Our own file, not untrusted input.
    icon = ET.parse(finders.find("img/favicon.svg")).getroot()  # noqa: S314
    assert icon.tag == "{http://www.w3.org/2000/svg}svg"
    page = client.get("/").content.decode()
    assert f'<link rel="icon" href="{static("img/favicon.svg")}" type="image/svg+xml">' in page


@pytest.mark.django_db
def test_bell_is_an_svg_icon_with_a_spoken_unread_count(client, patient):
    client.force_login(patient)
    page = client.get("/").content.decode()
    assert "🔔" not in page
    bell = re.search(r'<a class="bell"[^>]*id="notification-bell"[^>]*>(.*?)</a>', page, re.S)[1]
    icon = re.search(r"<svg[^>]*>", bell)[0]
    assert 'aria-hidden="true"' in icon and 'focusable="false"' in icon
    assert "style=" not in bell  # the CSP allows no inline styles
    # What a screen reader says: the name, then the count live.js keeps current.
    spoken = " ".join(re.sub(r"<svg.*?</svg>|<[^>]+>", " ", bell, flags=re.S).split())
    assert spoken == "Notifications: 0 unread"
    assert re.search(r"<span[^>]*data-unread[^>]*>0</span>", bell)
    live = (REPO / "static" / "js" / "live.js").read_text()
    assert 'getElementById("notification-bell")' in live and '"[data-unread]"' in live
