"""Rendered question lists for visitors, cached until the forum changes.

Visitors see the same list for the same address, language and page, so its
rendering (the bulk of a list request) is kept in the shared cache under a
version number that every change to the forum's lists moves on, after its
commit. Members see the visitors' lists (``selectors.sees_public_list``;
their own unpublished questions are listed apart) and share it; moderators,
who see every state, are never served from it. Visitors' whole pages are
also kept in each process (``core.pagecache``) under the same version.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

VERSION_KEY = "forum:list-version"
TIMEOUT = 300


def _fresh() -> int:
    # A number no earlier version had, even after the shared cache was
    # emptied (a Redis restart): pages kept in a process's own cache under an
    # old number must never match again.
    return time.time_ns()


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        fresh = _fresh()
        cache.add(VERSION_KEY, fresh, timeout=None)
        current = cache.get(VERSION_KEY, fresh)
    return current


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # emptied since: start again from a new number
        cache.set(VERSION_KEY, _fresh(), timeout=None)


def invalidate() -> None:
    """Forget every cached list once the current transaction commits."""
    transaction.on_commit(_bump)


def key_for(request) -> str:
    """The cache key of this request's list, for a viewer who sees the public list."""
    parts = [
        str(version()),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
