"""Whole pages shared by plain members, kept in each process, with what is theirs filled in.

A signed-in patient sees the visitors' lists and home page with their own
header: their name, the bell's count and newest id, and their CSRF token.
Everything else is the same for every plain member, as long as nothing of
theirs shows on the page (a question of their own that others cannot see
is listed apart; a post of their own on a question page). So the page is
rendered once per process, address, language, time zone and version with
a slot in place of each personal part (``layout_context``). The session's
user is loaded with the bell and whether they have such a question, in one
query (``load_user``, through ``accounts.backends``), so a list or the home
page costs a member that query and nothing more; a page with more of its
own (a question's thank and follow buttons) adds one (``personal``).
Anything that makes a member's page their own sends them the usual way.

Plain members are active patients who are neither suspended (their pages
carry the notice and have no forms) nor staff (their menu has more).
"""

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User, user_is_verified_doctor
from core.pagecache import PLACEHOLDER, storable
from forum.models import PostState, Question
from notifications.models import Notification

# Unguessable, so no text in a post can be taken for a slot.
_SECRET = secrets.token_hex(16)
_SLOT = re.compile(rf"<!--{_SECRET}:(\w+):(\d+)-->")
TIMEOUT = 300


def slot(kind: str, pk: int = 0) -> SafeString:
    """The mark in a shared page where this member's ``kind`` (of object ``pk``) goes."""
    return mark_safe(f"<!--{_SECRET}:{kind}:{pk}-->")  # noqa: S308 - no outside text in it


# base.html puts these in the header in place of the member's own.
LAYOUT_SLOTS = {kind: slot(kind) for kind in ("name", "unread", "zero", "last")}


def _like_any_other(user, role: str, *, staff: bool = False) -> bool:
    """Whether ``user`` is an active ``role`` with nothing of their own in the header or forms.

    Staff only with ``staff`` (their page's key then tells them apart).
    """
    return bool(
        getattr(settings, "SHUKANG_MEMBER_PAGE_CACHE", True)
        and user.is_authenticated
        and user.is_active
        and user.role == role
        and not user.is_superuser
        and (staff or not user.is_staff)
        and not user.is_suspended
    )


def eligible(user) -> bool:
    """Whether ``user`` is a plain member, whose pages may come from a shared one."""
    return _like_any_other(user, User.Role.PATIENT)


def eligible_physician(user) -> bool:
    """Whether ``user`` is a verified physician like any other, whose pages may be shared.

    Their profile comes with their user (``core.sessionuser``): no query.
    """
    return _like_any_other(user, User.Role.DOCTOR) and user_is_verified_doctor(user)


def eligible_moderator(user) -> bool:
    """Whether ``user`` is a moderator like any other, whose pages may be shared.

    Not a superuser (their menu differs), and no physician (their forms do);
    staff or not, which their page's key tells apart.
    """
    like_any_other = _like_any_other(user, User.Role.MODERATOR, staff=True)
    return like_any_other and not user_is_verified_doctor(user)


def layout_context() -> dict:
    """What a template needs to render the shared page: slots for the header and the token."""
    return {"slots": LAYOUT_SLOTS, "csrf_token": PLACEHOLDER}


def key(request, *parts: object) -> str:
    """The cache key of a shared page: ``parts`` (what the page shows) and where it is shown."""
    where = (
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        request.scheme,
        request.get_host(),
        request.get_full_path(),
    )
    joined = "|".join(map(str, (*parts, *where)))
    return "member:" + hashlib.sha256(joined.encode()).hexdigest()


# What a page adds to the member's query: SQL giving (kind, value, 0) rows,
# and its parameters with the placeholder USER for the member's id. Kinds
# are the page's own.
USER = object()


@dataclass(frozen=True)
class Part:
    sql: str
    params: tuple = ()


@dataclass
class Personal:
    """The member's bell, whether they have a question others cannot see, and the parts' rows."""

    unread: int
    last: int
    unpublished: bool = False
    rows: dict[int, list[int]] = field(default_factory=dict)


def _user_query(connection) -> tuple[str, list[tuple[str, list]]]:
    """The session user's SQL, and each column's field name and the ORM's converters for it."""
    quote = connection.ops.quote_name
    fields = User._meta.concrete_fields
    table = quote(User._meta.db_table)
    notifications = quote(Notification._meta.db_table)
    questions = quote(Question._meta.db_table)
    columns = ", ".join(f"{table}.{quote(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns}, "  # noqa: S608 - the models' tables and columns; values as parameters
        f"(SELECT COUNT(*) FROM {notifications} "
        f"WHERE recipient_id = {table}.id AND read_at IS NULL), "
        f"(SELECT COALESCE(MAX(id), 0) FROM {notifications} WHERE recipient_id = {table}.id), "
        f"CASE WHEN EXISTS (SELECT 1 FROM {questions} WHERE author_id = {table}.id "
        "AND deleted_at IS NULL AND state <> %s) THEN 1 ELSE 0 END "
        f"FROM {table} WHERE {table}.id = %s"
    )
    converters = []
    for model_field in fields:
        column = model_field.get_col(User._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converters.append((model_field.attname, column, found))
    return sql, converters


_USER_QUERIES: dict[str, tuple[str, list]] = {}


def load_user(user_id) -> User | None:
    """The session's user, with their bell and unpublished questions known, in one query.

    What Django's ``ModelBackend.get_user`` loads, read the way the ORM reads
    a row (its converters), without building a query on every request; the
    bell's count and newest id and whether the member has a live question
    that only they and moderators see come with it, as ``user.member_state``.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor not in _USER_QUERIES:
        _USER_QUERIES[connection.vendor] = _user_query(connection)
    sql, converters = _USER_QUERIES[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [PostState.PUBLISHED, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    names, values = [], []
    for (name, column, found), value in zip(converters, row, strict=False):
        for converter in found:
            value = converter(value, column, connection)
        names.append(name)
        values.append(value)
    user = User.from_db(DEFAULT_DB_ALIAS, names, values)
    unread, last, unpublished = row[len(converters) :]
    user.member_state = Personal(unread=unread, last=last, unpublished=bool(unpublished))
    return user


def personal(request, parts: Iterable[Part] = ()) -> Personal:
    """The member's bell and unpublished questions, with every part's rows (one query, if any).

    Kept on the request, so a page rendered for the member after all shows
    the same bell without asking again (``notifications.context_processors``).
    """
    user = request.user
    known = getattr(user, "member_state", None)
    if known is None:  # a user loaded some other way: their bell as the session's user has it
        known = load_user(user.pk).member_state
    found = Personal(unread=known.unread, last=known.last, unpublished=known.unpublished)
    parts = tuple(parts)
    if parts:
        sql = " UNION ALL ".join(part.sql for part in parts)
        params = [user.pk if value is USER else value for part in parts for value in part.params]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            for kind, value, _extra in cursor.fetchall():
                found.rows.setdefault(kind, []).append(value)
    request.member_personal = found
    return found


def fill(request, html: str, found: Personal, extra: Mapping[str, str] = {}) -> HttpResponse:
    """The shared page as this member sees it: every slot filled, their token in its place.

    ``extra`` maps a page's own slots ("kind:pk") to what goes there.
    """
    values = {
        "name:0": escape(request.user.name),
        "unread:0": str(found.unread),
        "zero:0": "" if found.unread else " is-zero",
        "last:0": str(found.last),
        **extra,
    }
    html = _SLOT.sub(lambda match: values[f"{match[1]}:{match[2]}"], html)
    return HttpResponse(html.replace(PLACEHOLDER, get_token(request)))


def member_page(
    version: Callable[[], object | None],
    *,
    params: Iterable[str] = (),
    timeout: int | Callable[[TemplateResponse], int] = TIMEOUT,
):
    """Serve a view's pages to plain members from one shared page, keyed by ``version()``.

    The view must return a ``TemplateResponse`` that every plain member sees
    alike, apart from the header, unless the member has a question that
    others cannot see (the lists show it apart, the home page among the
    latest): then the view renders the page for them. As ``core.pagecache.visitor_page``, only addresses
    with nothing but ``params`` in the query are kept, and nothing while
    ``version()`` is None.
    """
    params = frozenset(params)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if (
                request.method not in ("GET", "HEAD")
                or not eligible(request.user)
                or not params.issuperset(request.GET)
                or len(get_messages(request))
            ):
                return view(request, *args, **kwargs)
            current = version()
            if current is None:
                return view(request, *args, **kwargs)
            found = personal(request)
            if found.unpublished:
                return view(request, *args, **kwargs)
            page_key = key(request, request.resolver_match.view_name, current)
            pages = caches["pages"]
            html = pages.get(page_key)
            if html is None:
                response = view(request, *args, **kwargs)
                if not storable(response):
                    return response
                seconds = timeout(response) if callable(timeout) else timeout
                response.context_data = {**(response.context_data or {}), **layout_context()}
                html = response.render().content.decode()
                pages.set(page_key, html, seconds)
            return fill(request, html, found)

        return wrapper

    return decorator
