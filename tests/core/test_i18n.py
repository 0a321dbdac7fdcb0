import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def load_catalog(path: Path):
    with path.open("rb") as po_file:
        return read_po(po_file)


def test_every_chinese_message_is_translated():
    untranslated = [
        message.id
        for message in load_catalog(PO_FILE)
        if message.id
        and (
            not message.string
            or message.fuzzy
            or (isinstance(message.string, tuple) and not all(message.string))
        )
    ]
    assert untranslated == []


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext (xgettext) is not installed")
def test_message_file_holds_every_string_in_the_code(tmp_path):
    """A string added without running `make messages` fails here."""
    copy = tmp_path / "project"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "staticfiles", "node_modules", "*.sqlite3*", "__pycache__"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
            "--ignore",
            "tests/*",
            "--ignore",
            "bench/*",
            "--ignore",
            "staticfiles/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"DJANGO_DEBUG": "true", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        timeout=120,
    )
    extracted = {
        message.id
        for message in load_catalog(copy / PO_FILE.relative_to(settings.BASE_DIR))
        if message.id
    }
    present = {message.id for message in load_catalog(PO_FILE) if message.id}
    assert sorted(map(str, extracted - present)) == []


@pytest.mark.django_db
def test_language_switcher_turns_the_site_chinese(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert "首页" in content
    assert "如遇紧急情况，请拨打120或前往最近的急诊科。" in content


@pytest.mark.django_db
def test_chinese_readers_get_chinese_from_their_browser(client):
    content = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in content and "首页" in content


@pytest.mark.django_db
def test_english_readers_get_english(client):
    content = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="en">' in content and ">Home<" in content
