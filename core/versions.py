"""Version numbers in the shared cache, moved on after each change they cover.

Pages kept in a process's own cache (``core.pagecache``, ``forum.membercache``)
are keyed by such a number; the forum's and the salon's are made here.

A page being read asks for the versions it is kept under, and a member's
page for their session too: each a round trip to Redis, which on a page
served from the process's own cache costs as much as the rest of the
request. ``ReadTogetherMiddleware`` asks for all of them in one round trip
when a GET or HEAD comes in, and each version's ``get()`` answers from
that for the rest of the request.
"""

import logging
import time
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

from core.cache import CACHE_ERRORS, strict

logger = logging.getLogger(__name__)

# Every version made, by its key in the shared cache.
_versions: dict[str, "SharedVersion"] = {}
# The versions already known to the request being served (None: not in a
# page read, ask Redis each time).
_known: ContextVar[dict | None] = ContextVar("known_versions", default=None)


def _fresh() -> int:
    # A number no earlier version had, even after the shared cache was
    # emptied (a Redis restart): pages kept in a process's own cache under an
    # old number must never match again.
    return time.time_ns()


class SharedVersion:
    def __init__(self, key: str, owner: str):
        self.key = key
        self.owner = owner  # for the log: "forum", "salon"
        _versions[key] = self

    def get(self) -> int | None:
        """The version, or None when the shared cache cannot be reached.

        Without it nothing is cached or served from a cache, and pages are
        rendered as if for the first time: slower, never stale. The strict
        view matters: the cache itself would answer from this process's
        memory, a version no other process moves on.
        """
        known = _known.get()
        if known is not None and self.key in known:
            return known[self.key]
        current = self._ask()
        if known is not None:
            known[self.key] = current
        return current

    def _ask(self) -> int | None:
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
        known = _known.get()
        if known is not None:  # moved on during the request: ask again
            known.pop(self.key, None)
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


class ReadTogetherMiddleware:
    """For a GET or HEAD: the versions, and a member's session, in one round trip to Redis.

    Placed right after Django's SessionMiddleware. A session found is
    handed to the session store (``core.sessions``), which otherwise reads
    it on its own; a version or session not in Redis is left to be asked
    for as usual, and so is everything while Redis cannot be reached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = _known.set(self._read(request))
        try:
            return self.get_response(request)
        finally:
            _known.reset(token)

    @staticmethod
    def _read(request) -> dict:
        session = getattr(request, "session", None)
        session_key = None
        if getattr(session, "prime", None) and session.session_key:
            session_key = session.cache_key
        keys = list(_versions)
        if session_key is not None:
            keys.append(session_key)
        try:
            found = strict(cache).get_many(keys)
        except CACHE_ERRORS:  # core.cache has logged the outage; each asks on its own
            return {}
        if session_key is not None and session_key in found:
            session.prime(found.pop(session_key))
        return found
