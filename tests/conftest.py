"""Shared fixtures: factories for people, and the gates for optional services.

Suites that need PostgreSQL, Redis or a browser are marked; when their
service is missing they are skipped with the reason, never silently.
"""

import importlib
import itertools
import os
import socket
from urllib.parse import urlparse

import pytest
from channels.layers import channel_layers
from django.core.cache import cache, caches
from django.db import connection
from django.utils import translation

from accounts.models import User
from accounts.services import account_create

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a-sturdy-test-passphrase"

_counter = itertools.count(1)


def _redis_reachable() -> str | None:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return "Redis not configured: set REDIS_URL to run this suite"
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1).close()
    except OSError as error:
        return f"Redis at REDIS_URL is unreachable ({error})"
    return None


def _browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    reasons = {
        "postgres": None
        if connection.vendor == "postgresql"
        else "PostgreSQL not configured: set DATABASE_URL to a PostgreSQL database to run this suite",
        "redis": _redis_reachable(),
        "e2e": _browser_missing(),
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _clean_cache():
    """Each test starts with empty caches (rate limits, sessions, pages)."""
    cache.clear()
    caches["local"].clear()
    caches["pages"].clear()
    caches["members"].clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer.

    Every async test runs in a new event loop, and channels_redis keeps its
    receive lock on the layer: a receive cut short in one test would leave a
    lock from a closed loop for the next test's consumers to trip on.
    """
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _private_storage(tmp_path, monkeypatch):
    """Each test's attachments live in a folder of its own, gone after the test."""
    from django.core.files.storage import FileSystemStorage

    from attachments.models import Attachment

    storage = FileSystemStorage(location=tmp_path / "private", base_url=None)
    for name in ("original", "image", "thumbnail"):
        monkeypatch.setattr(Attachment._meta.get_field(name), "storage", storage)
    return storage


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """English pages unless a test asks for Chinese; fast password hashing."""
    settings.LANGUAGE_CODE = "en"
    # Moderation tests turn the first-post hold back on where they need it.
    settings.SHUKANG_HOLD_FIRST_POSTS = 0
    # A page reader's user is kept until a commit moves the members' version on
    # (core.sessionuser); tests run inside one transaction that never commits,
    # so the suites that prove it turn it on, and the browser journeys run with it.
    settings.SHUKANG_SESSION_USER_CACHE = False
    # Factories write far faster than people; rate-limit tests set real limits.
    settings.SHUKANG_RATE_LIMITS = {action: (10_000, 60) for action in settings.SHUKANG_RATE_LIMITS}
    # Hashing at full strength would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run right after the commit, in the test's own process; the suites
    # that prove the queue and the worker (tests/core/test_tasks.py and the
    # fault suites) put the database backend back.
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": settings.TASKS["default"]["QUEUES"],
        }
    }
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def kept(settings):
    """As in production: a page reader's user comes from the process's cache (core.sessionuser)."""
    settings.SHUKANG_SESSION_USER_CACHE = True


@pytest.fixture
def user_factory(db):
    def make(*, role=User.Role.PATIENT, email=None, name=None, password=PASSWORD, **kwargs):
        number = next(_counter)
        return account_create(
            email=email or f"person{number}@example.com",
            name=name or f"Person {number}",
            password=password,
            role=role,
            **kwargs,
        )

    return make


@pytest.fixture
def patient(user_factory):
    return user_factory(name="Patient Zhang")


@pytest.fixture
def doctor_factory(user_factory):
    def make(*, verified=True, **kwargs):
        return user_factory(role=User.Role.DOCTOR, verified=verified, **kwargs)

    return make


@pytest.fixture
def doctor(doctor_factory):
    return doctor_factory(name="Dr. Wang")


@pytest.fixture
def moderator(user_factory):
    return user_factory(role=User.Role.MODERATOR, name="Moderator Lin")


@pytest.fixture
def pending_physician(user_factory):
    return user_factory(role=User.Role.DOCTOR, verified=False, name="Dr. Pending").physician_profile


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _seeded_categories(request):
    """Transactional tests flush the data migrations' rows; put them back."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        marker = request.node.get_closest_marker("django_db")
        if marker is None or not marker.kwargs.get("transaction"):
            return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from accounts.models import Discipline
    from forum.models import Category

    if not Category.objects.exists():
        importlib.import_module("forum.migrations.0002_seed_categories_and_tags").seed(apps, None)
    if not Discipline.objects.exists():
        importlib.import_module("accounts.migrations.0005_seed_disciplines").seed(apps, None)


@pytest.fixture
def category(db):
    from forum.models import Category

    return Category.objects.get(slug="colorectal-cancer")


@pytest.fixture
def question_factory(user_factory, doctor_factory, category):
    """Questions through the real services, with answers and replies if asked."""
    from forum import services

    def make(
        *, author=None, answers=0, replies_per_answer=0, replies=0, title=None, body=None, **kwargs
    ):
        author = author or user_factory()
        number = next(_counter)
        question = services.question_create(
            author=author,
            title=title or f"How should I manage fatigue in cycle {number}?",
            body=body or "I feel very tired after each chemotherapy cycle and want advice.",
            category=kwargs.pop("category", category),
            **kwargs,
        )
        doctor = doctor_factory() if answers else None
        replier = user_factory() if (replies_per_answer or replies) else None
        for index in range(answers):
            answer = services.answer_create(
                question=question,
                author=doctor,
                body=f"Answer {index}: rest, hydrate and tell your oncologist.",
            )
            for reply_index in range(replies_per_answer):
                services.reply_create(
                    question=question, answer=answer, author=replier, body=f"Thanks {reply_index}"
                )
        for reply_index in range(replies):
            services.reply_create(
                question=question, author=replier, body=f"Same here {reply_index}"
            )
        question.refresh_from_db()
        return question

    return make
