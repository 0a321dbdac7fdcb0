"""Version numbers in the shared cache, moved on after each change they cover.

Pages kept in a process's own cache (``core.pagecache``, ``forum.membercache``)
are keyed by such a number; the forum's and the salon's are made here.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction

from core.cache import CACHE_ERRORS, strict

logger = logging.getLogger(__name__)


def _fresh() -> int:
    # A number no earlier version had, even after the shared cache was
    # emptied (a Redis restart): pages kept in a process's own cache under an
    # old number must never match again.
    return time.time_ns()


class SharedVersion:
    def __init__(self, key: str, owner: str):
        self.key = key
        self.owner = owner  # for the log: "forum", "salon"

    def get(self) -> int | None:
        """The version, or None when the shared cache cannot be reached.

        Without it nothing is cached or served from a cache, and pages are
        rendered as if for the first time: slower, never stale. The strict
        view matters: the cache itself would answer from this process's
        memory, a version no other process moves on.
        """
        shared = strict(cache)
        try:
            current = shared.get(self.key)
            if current is None:
                fresh = _fresh()
                shared.add(self.key, fresh, timeout=None)
                current = shared.get(self.key, fresh)
        except CACHE_ERRORS:  # core.cache has logged the outage
            return None
        return current

    def bump(self) -> None:
        shared = strict(cache)
        try:
            try:
                shared.incr(self.key)
            except ValueError:  # emptied since: start again from a new number
                shared.set(self.key, _fresh(), timeout=None)
        except CACHE_ERRORS:
            # Unreachable: the key is deleted from Redis when it returns
            # (core.cache), so pages cached under the old number never match again.
            logger.warning(
                "The %s's cache version could not be moved on: Redis is unreachable", self.owner
            )

    def invalidate(self) -> None:
        """Move the version on once the current transaction commits."""
        transaction.on_commit(self.bump)
