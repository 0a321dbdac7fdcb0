"""Sessions read through the cache and kept in the database, which alone decides.

Django's cached_db store, given ``empty_when_down(cache)``: while Redis
cannot be reached, every session is read from and written to the database
only, never to one process's memory, so signing out in one process ends the
session in all of them. The keys changed meanwhile are deleted from Redis
when it returns (core.cache), so its older copy cannot bring back a session
that ended during the outage.
"""

from django.contrib.sessions.backends import cached_db

from core import versions
from core.cache import empty_when_down


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = empty_when_down(self._cache)
        self._primed = None

    def prime(self, data: dict) -> None:
        """The session's data, just read from the cache with the page's versions (core.versions)."""
        self._primed = data

    def load(self):
        versions.session_loading(self)  # in a page read: may prime it
        primed, self._primed = self._primed, None
        if primed is not None:
            return primed
        return super().load()
