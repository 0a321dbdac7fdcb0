"""Version numbers in the shared cache, moved on after each change they cover.

Pages kept in a process's own cache (``core.pagecache``, ``forum.membercache``)
are keyed by such a number; the forum's and the salon's are made here.

A page being read asks for the versions it is kept under, and a member's
page for their session too: each a round trip to Redis, which on a page
served from the process's own cache costs as much as the rest of the
request. In a GET or HEAD (``ReadTogetherMiddleware``), the first of them
asked for brings all of them in one round trip, and each version's
``get()`` answers from that for the rest of the request. A request that
asks for none (a visitor's bare page, a static file) costs Redis nothing.
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


class _PageRead:
    """What a GET or HEAD has read from Redis: every version and its session, read together."""

    def __init__(self, session):
        self.session = session  # the request's session store (core.sessions), or None
        self.found: dict | None = None

    def versions(self) -> dict:
        if self.found is None:
            self.found = self._read()
        return self.found

    def _read(self) -> dict:
        session, session_key = self.session, None
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


# The request being served, when it is a page read (None: ask Redis each time).
_page_read: ContextVar[_PageRead | None] = ContextVar("page_read", default=None)


def session_loading(session) -> None:
    """Called by the session store as it loads: in a page read, read it with the versions."""
    read = _page_read.get()
    if read is not None and read.session is session:
        read.versions()


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
        read = _page_read.get()
        known = read.versions() if read is not None else None
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
        read = _page_read.get()
        if read is not None and read.found is not None:  # moved on during the request: ask again
            read.found.pop(self.key, None)
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

    Placed right after Django's SessionMiddleware. The first version or the
    session asked for reads them all; a session found is handed to the
    session store (``core.sessions``). A version or session not in Redis is
    asked for as usual, and so is everything while Redis cannot be reached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = _page_read.set(_PageRead(getattr(request, "session", None)))
        try:
            return self.get_response(request)
        finally:
            _page_read.reset(token)
