"""The settings module read in fresh processes, as each environment would."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x" * 64 + "-a-long-random-production-secret",
    "DJANGO_ALLOWED_HOSTS": "shukang.example",
}


def read_settings(env: dict, *names: str) -> subprocess.CompletedProcess:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        # No checkout's .env.local: each test is the environment it names.
        env=clean | {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV_FILE": ""} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = read_settings({"DJANGO_DEBUG": "false"}, "DEBUG")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    result = read_settings(
        PRODUCTION,
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "DEBUG",
    )
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "DEBUG": False,
    }


def test_deploy_check_is_clean_with_production_settings():
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=clean | {"DJANGO_ENV_FILE": ""} | PRODUCTION,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_are_sqlite_in_memory_layer_and_local_cache():
    result = read_settings(
        {"DJANGO_DEBUG": "true"}, "DATABASES", "CHANNEL_LAYERS", "CACHES", "MAILERS", "TIME_ZONE"
    )
    values = json.loads(result.stdout)
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    # WAL, immediate transactions and a busy timeout keep concurrent visitors off "database is locked".
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] >= 10
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert values["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert values["MAILERS"]["default"]["BACKEND"].endswith("console.EmailBackend")
    assert values["TIME_ZONE"] == "Asia/Shanghai"


def test_redis_url_selects_channels_redis_and_the_redis_cache():
    result = read_settings(
        {"DJANGO_DEBUG": "true", "REDIS_URL": "redis://127.0.0.1:6379/3"},
        "CHANNEL_LAYERS",
        "CACHES",
    )
    values = json.loads(result.stdout)
    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    host = layer["CONFIG"]["hosts"][0]
    assert host["address"] == "redis://127.0.0.1:6379/3"
    assert host["socket_timeout"] is None and host["max_connections"] >= 1000
    assert layer["CONFIG"]["capacity"] >= 1000
    assert values["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_email_settings_feed_mailers():
    result = read_settings(
        {
            "DJANGO_DEBUG": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": "/var/mail/shukang",
            "DEFAULT_FROM_EMAIL": "team@shukang.example",
            "TIME_ZONE": "Europe/London",
        },
        "MAILERS",
        "DEFAULT_FROM_EMAIL",
        "TIME_ZONE",
    )
    assert json.loads(result.stdout) == {
        "MAILERS": {
            "default": {
                "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "OPTIONS": {"file_path": "/var/mail/shukang"},
            }
        },
        "DEFAULT_FROM_EMAIL": "team@shukang.example",
        "TIME_ZONE": "Europe/London",
    }


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_scripts(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()
