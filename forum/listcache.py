"""Rendered question lists for visitors, cached until the forum changes.

Visitors see the same list for the same address, language and page, so its
rendering (the bulk of a list request) is kept in the cache under a version
number that every change to the forum's lists moves on, after its commit.
Signed-in people may see their own pending posts and are never served from
this cache.
"""

import hashlib

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

VERSION_KEY = "forum:list-version"
TIMEOUT = 300


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        current = cache.get(VERSION_KEY, 1)
    return current


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted: any new number invalidates the old keys
        cache.set(VERSION_KEY, int(timezone.now().timestamp()), timeout=None)


def invalidate() -> None:
    """Forget every cached list once the current transaction commits."""
    transaction.on_commit(_bump)


def key_for(request) -> str | None:
    """The cache key of this request's list, or None when it must not be cached."""
    if request.user.is_authenticated:
        return None
    parts = [
        str(version()),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
