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
import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from core.cache import CACHE_ERRORS, strict

logger = logging.getLogger(__name__)

VERSION_KEY = "forum:list-version"
TIMEOUT = 300


def _fresh() -> int:
    # A number no earlier version had, even after the shared cache was
    # emptied (a Redis restart): pages kept in a process's own cache under an
    # old number must never match again.
    return time.time_ns()


def version() -> int | None:
    """The forum's version, or None when the shared cache cannot be reached.

    Without it nothing is cached or served from a cache, and pages are
    rendered as if for the first time: slower, never stale. The strict view
    matters: the cache itself would answer from this process's memory, a
    version no other process moves on.
    """
    shared = strict(cache)
    try:
        current = shared.get(VERSION_KEY)
        if current is None:
            fresh = _fresh()
            shared.add(VERSION_KEY, fresh, timeout=None)
            current = shared.get(VERSION_KEY, fresh)
    except CACHE_ERRORS:  # core.cache has logged the outage
        return None
    return current


def _bump() -> None:
    shared = strict(cache)
    try:
        try:
            shared.incr(VERSION_KEY)
        except ValueError:  # emptied since: start again from a new number
            shared.set(VERSION_KEY, _fresh(), timeout=None)
    except CACHE_ERRORS:
        # Unreachable: the key is deleted from Redis when it returns
        # (core.cache), so pages cached under the old number never match again.
        logger.warning("The forum's cache version could not be moved on: Redis is unreachable")


def invalidate() -> None:
    """Forget every cached list once the current transaction commits."""
    transaction.on_commit(_bump)


# What the list pages' addresses may carry and still be cached: made-up
# parameters would fill the caches with copies of one list.
LIST_PARAMS = frozenset(
    ("category", "tag", "status", "sort", "stage", "treatment", "asker", "page")
)


def key_for(request) -> str | None:
    """The cache key of this request's list, for a viewer who sees the public list."""
    if not LIST_PARAMS.issuperset(request.GET):
        return None
    current = version()
    if current is None:
        return None
    parts = [
        str(current),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.get_full_path(),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
