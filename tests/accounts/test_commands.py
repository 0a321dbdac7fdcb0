import io
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import PhysicianProfile, User
from salon.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """manage.py as a user runs it, on its own migrated SQLite database."""
    database = tmp_path_factory.mktemp("cli") / "cli.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "true"}

    def run(*args, check=False):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    run("migrate", "-v0", check=True)
    run(
        "create_account",
        "--role",
        "patient",
        "--email",
        "taken@example.com",
        "--password",
        "long-enough-pass-1",
        check=True,
    )
    return run


def test_create_account_makes_a_verified_doctor(capsys):
    call_command(
        "create_account",
        role="doctor",
        email="dr@example.com",
        password="long-enough-pass-1",
        name="Dr. Zhou",
        verified=True,
    )
    user = User.objects.get(email="dr@example.com")
    assert user.name == "Dr. Zhou"
    assert user.physician_profile.is_verified
    assert "verified physician" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "nurse"], "Unknown role"),
        (["--email", "taken@example.com"], "already exists"),
        (["--password", "password"], "too common"),
    ],
)
def test_create_account_refuses_bad_input_with_one_line_and_exit_code_2(cli, args, message):
    details = {
        "--role": "patient",
        "--email": "new@example.com",
        "--password": "long-enough-pass-1",
    }
    details |= dict(zip(args[::2], args[1::2], strict=True))
    result = cli("create_account", *[item for pair in details.items() for item in pair])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    count = cli(
        "shell",
        "--no-imports",
        "-c",
        "from accounts.models import User; print(User.objects.count())",
    )
    assert count.stdout.strip() == "1"


def test_seed_demo_is_idempotent_and_prints_the_logins(capsys):
    call_command("seed_demo")
    first = User.objects.count()
    output = capsys.readouterr().out
    call_command("seed_demo")
    assert User.objects.count() == first
    assert "moderator@shukang.example" in output
    assert "dr.wang@shukang.example" in output
    assert "shukang-demo-2026" in output
    assert User.objects.filter(role="doctor", physician_profile__status="verified").count() >= 3


def test_seeded_doctors_events_and_places_have_chinese_names():
    call_command("seed_demo", stdout=io.StringIO())
    chinese = re.compile(r"[\u4e00-\u9fff]")
    for profile in PhysicianProfile.objects.all():
        assert chinese.search(profile.hospital_zh) and chinese.search(profile.department_zh)
    for title, location in Event.objects.values_list("title", "location"):
        assert chinese.search(title), title
        assert not location or chinese.search(location), location
