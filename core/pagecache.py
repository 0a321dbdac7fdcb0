"""Whole pages for visitors, kept in each process until their content changes.

A visitor's page is the same for everyone with the same address, language
and time zone, except for the CSRF token of the language switcher. The page
is rendered once per process with a placeholder in the token's place and
stored in the process's own cache (``CACHES["pages"]``) under a version
number that the content's owner moves on after every change (the forum's
list version lives in the shared cache, so every process sees it move). Each
request then costs one version lookup and a byte replacement instead of a
template render.

Signed-in people, visitors with a message waiting, and anything but a 200
``TemplateResponse`` go to the view unchanged.
"""

import hashlib
import secrets
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils import timezone, translation

# Unguessable, so text in a post can never be taken for it.
PLACEHOLDER = secrets.token_hex(32)
_PLACEHOLDER_BYTES = PLACEHOLDER.encode()


def _key(request, version: Callable[[], object | None], params: frozenset[str]) -> str | None:
    if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
        return None
    # Made-up parameters would fill the cache with copies of one page.
    if not params.issuperset(request.GET):
        return None
    if len(get_messages(request)):
        return None
    current = version()
    if current is None:
        return None
    parts = (
        request.resolver_match.view_name,
        str(current),
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.scheme,
        request.get_host(),
        request.get_full_path(),
    )
    return "page:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def visitor_page(
    version: Callable[[], object | None],
    *,
    params: Iterable[str] = (),
    timeout: int | Callable[[TemplateResponse], int] = 300,
):
    """Serve a view's pages to visitors from the process's cache, keyed by ``version()``.

    The view must return a ``TemplateResponse`` whose page depends only on
    the address, the language, the time zone and what ``version`` covers.
    Only addresses whose query string holds nothing but ``params`` are kept,
    and nothing is kept while ``version()`` answers None (the shared cache
    is unreachable). ``timeout`` may be a function of the response, for a
    page that changes by itself at a moment its context knows.
    """
    params = frozenset(params)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            key = _key(request, version, params)
            pages = caches["pages"]
            content = pages.get(key) if key is not None else None
            if content is None:
                response = view(request, *args, **kwargs)
                if key is None or not storable(response):
                    return response
                seconds = timeout(response) if callable(timeout) else timeout
                response.context_data = {**(response.context_data or {}), "csrf_token": PLACEHOLDER}
                content = response.render().content
                pages.set(key, content, seconds)
            else:
                response = HttpResponse()
            response.content = content.replace(_PLACEHOLDER_BYTES, get_token(request).encode())
            return response

        return wrapper

    return decorator


def storable(response) -> bool:
    return (
        isinstance(response, TemplateResponse)
        and not response.is_rendered
        and response.status_code == 200
    )
