"""Per-account rate limits through Django's cache (Redis when configured, failing soft)."""

import time

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.suspension import suspension_message


class RateLimited(PermissionDenied):
    """Too many actions of one kind in the window; answered with 429."""


def rate_limit(*, user, action: str) -> None:
    """Count one ``action`` by ``user``; raise RateLimited past the configured limit.

    A fixed window per account and action: cheap (one cache round trip) and
    shared by every process through the cache. While Redis is down each
    process counts on its own (core.cache): the limit still holds, per
    process, and no write is refused for want of Redis.
    """
    if user.is_moderator:
        return
    limit = _count(action=action, who=str(user.pk))
    if limit is not None:
        raise RateLimited(
            _("You have done this %(limit)d times recently. Please wait a little and try again.")
            % {"limit": limit}
        )


def rate_limit_client(*, request, action: str) -> None:
    """Count one ``action`` by whoever sent ``request``; raise RateLimited past the limit.

    For reads anyone may make: a signed-in person is counted by account, a
    visitor by address (as allauth's adapter finds it, so the proxies
    trusted by DJANGO_TRUSTED_PROXY_COUNT are looked through).
    """
    user = request.user
    if user.is_authenticated:
        if user.is_moderator:
            return
        who = str(user.pk)
    else:
        try:
            address = get_account_adapter(request).get_client_ip(request)
        except PermissionDenied:
            address = request.META.get("REMOTE_ADDR", "")
        who = f"ip:{address}"
    limit = _count(action=action, who=who)
    if limit is not None:
        raise RateLimited(
            _("You have done this %(limit)d times recently. Please wait a little and try again.")
            % {"limit": limit}
        )


def _count(*, action: str, who: str) -> int | None:
    """Count one ``action`` by ``who`` in the current window; the limit if it is passed, else None."""
    limit, seconds = settings.SHUKANG_RATE_LIMITS[action]
    window = int(time.time() // seconds)
    key = f"ratelimit:{action}:{who}:{window}"
    if cache.add(key, 1, timeout=seconds + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=seconds + 5)
            count = 1
    return limit if count > limit else None


def require_can_post(user) -> None:
    """Refuse anyone who may not write: signed out, deactivated or suspended."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Please sign in first."))
    if user.is_suspended:
        # The end in the person's own zone, as their pages and the audit log show times.
        raise PermissionDenied(suspension_message(user))
