"""The session's user for pages being read, kept in each process until a member's state changes.

Every signed-in request loads its user (``core.memberpage.load_user``: the
row, the bell, whether they have a question others cannot see). A member
reading pages does so many times a minute, and none of it changes between
two pages unless something is written. So a GET or HEAD takes the user
from this process's own cache (``CACHES["members"]``), under the members'
version in the shared cache, which moves on after the commit of anything
a member's pages show of their own: a person saved or deleted (name, role,
suspension, password, time zone) or their physician's profile (kept with
them: whether they may answer), a notification created, read or
deleted, a question, answer or reply saved or deleted (their own posts,
published or not), a thanks or a follow (``core.handlers``, and the
services that write these rows in bulk).

Writes (POST and the rest) always load the user from the database, so
what a member may do is decided on their row as it is. While the shared
cache is unreachable nothing is kept and every request reads the database.
"""

from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.middleware import get_user
from django.core.cache import caches
from django.utils.functional import SimpleLazyObject

from accounts.models import User
from core.versions import SharedVersion

TIMEOUT = 300
_members = SharedVersion("members:version", "members")
# The members' version while a reader's user is loaded; None: load it fresh.
_reading = ContextVar("reading", default=None)


def invalidate() -> None:
    """Forget every kept user once the current transaction commits."""
    _members.invalidate()


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, except that a GET or HEAD may take its user from this process's cache."""

    def process_request(self, request):
        super().process_request(request)
        if request.method in ("GET", "HEAD"):
            request.user = SimpleLazyObject(lambda: _reading_user(request))


def _version(request):
    """The members' version for this request, asked once (None: nothing may be kept)."""
    if not hasattr(request, "members_version"):
        enabled = getattr(settings, "SHUKANG_SESSION_USER_CACHE", True)
        request.members_version = _members.get() if enabled else None
    return request.members_version


def _reading_user(request):
    if SESSION_KEY not in request.session:  # a visitor: no user to keep, no version to ask
        return get_user(request)
    token = _reading.set(_version(request))
    try:
        return get_user(request)  # Django's checks of the session, with load() below
    finally:
        _reading.reset(token)


def kept(request, name: str, compute):
    """``compute(user)`` for the page being read, kept beside the user until the version moves.

    For what a page shows of a member's own that only changes with what
    moves the members' version on. None for a write, or when nothing may be
    kept: the caller asks the database.
    """
    version = _version(request) if request.method in ("GET", "HEAD") else None
    if version is None:
        return None
    key = f"{name}:{request.user.pk}:{version}"
    value = caches["members"].get(key)
    if value is None:
        value = compute(request.user)
        caches["members"].set(key, value, TIMEOUT)
    return value


def load(user_id, fresh):
    """The user ``user_id``: kept, when a page is being read, or ``fresh(user_id)``."""
    version = _reading.get()
    if version is None:
        return fresh(user_id)
    key = f"user:{user_id}:{version}"
    kept = caches["members"].get(key)
    if kept is not None:
        return kept
    user = fresh(user_id)
    if user is not None:
        if user.role != User.Role.PATIENT:
            # Kept with physicians and moderators: their pages ask whether they may answer.
            getattr(user, "physician_profile", None)
        caches["members"].set(key, user, TIMEOUT)
    return user
