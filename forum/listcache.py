"""The forum's version, and the question lists cached under it.

Every change that shows on a forum page visitors see (a post written,
edited, moderated, thanked or accepted, a question locked, a name, a
physician's profile, a topic or tag) moves the version on after its commit.
Two caches are keyed by it:

- Visitors' whole list and question pages, in each process
  (``core.pagecache``).
- The body of each list, in the shared cache: visitors and members see the
  same lists (``selectors.sees_public_list``; a member's own unpublished
  questions are listed apart), so the body is rendered once per version,
  address and language for all of them. Moderators, who see every state,
  are never served from it.
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
