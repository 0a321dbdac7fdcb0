"""Every URL of the site answers hostile input with a 4xx (or a normal page), never a 5xx.

Walks the whole URL map, fills each parameter of each pattern, and each query
and form field the site reads, with values an attacker would try, and sends
them with GET and POST as a visitor, a patient and a moderator. On PostgreSQL
too: it refuses NUL in text, where SQLite stores it.
"""

import re
import sys
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.conf import settings
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"

HOSTILE_VALUES = [
    "\x00",  # PostgreSQL refuses it in text
    "%00",  # a NUL that a view might decode once more
    "9" * 5000,  # past Python's int() digit limit
    "9" * 30,  # an int(), but past every database column
    "²",  # str.isdigit() says yes, int() says no
    "٣",  # Arabic-Indic three: int() says 3
    "",
    "x" * 2000,  # longer than any field but a post's body
    "../",
]

# Names the views read straight from request.GET and request.POST; the form
# fields of every form of the site are added to them.
RAW_FIELDS = [
    "all",
    "cancel",
    "category",
    "decision",
    "final",
    "id",
    "next",
    "page",
    "partial",
    "q",
    "question",
    "remove",
    "sort",
    "specialty",
    "status",
    "tag",
    "title",
    "undo",
    "unfollow",
    "unlock",
]

# Whose forms give their field names: the site's own, and allauth's sign-in pages.
FORM_MODULES = (
    "accounts",
    "allauth",
    "core",
    "forum",
    "mdt",
    "moderation",
    "notifications",
    "salon",
)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def field_names() -> list[str]:
    """The raw names above, and every field of every form in ``FORM_MODULES``."""
    names = set(RAW_FIELDS)
    for form in _subclasses(forms.BaseForm):
        if form.__module__.split(".")[0] in FORM_MODULES:
            names.update(getattr(form, "base_fields", {}))
    return sorted(names)


def url_patterns(patterns=None, prefix=""):
    """(route, pattern) for every pattern of the URL map, includes followed."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = _route(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route, entry


def admin_model(pattern) -> type | None:
    """The model whose admin page this pattern serves, if any."""
    model_admin = getattr(pattern.callback, "model_admin", None)
    return model_admin.model if model_admin is not None else None


def walked_routes() -> list[str]:
    """Every route, but the admin pages of one model only.

    None of the people here may open any model's admin page: the admin site
    turns them away before the model's own code runs, the same code for every
    model (checked by ``test_no_one_here_may_open_a_models_admin_page``).
    """
    routes, first_model = [], None
    for route, pattern in url_patterns():
        model = admin_model(pattern)
        first_model = first_model or model
        if model is None or model is first_model:
            routes.append(route)
    return routes


def _route(pattern) -> str:
    """A pattern as a path template in which every parameter reads ``{}``."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = re.sub(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)", "{}", text.lstrip("^").rstrip("$"))
        return text.replace("\\", "")
    return re.sub(r"<(?:\w+:)?\w+>", "{}", text)


def reaches_a_view(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def hostile_requests():
    """(method, path, form) for each pattern and each hostile value, the form urlencoded.

    A value the pattern's converters refuse (``²`` for ``<int:pk>``) never
    reaches a view; what the resolver answers to all of those is asked once
    per value, on a path no pattern has.
    """
    routes = walked_routes()  # imports the views, and so the forms field_names reads
    names = field_names()
    for value in HOSTILE_VALUES:
        quoted = quote(value, safe="")
        paths = [f"/no-such-page/{quoted}/"]
        for route in routes:
            if "{}" not in route or reaches_a_view("/" + route.replace("{}", value)):
                paths.append("/" + route.replace("{}", quoted))
        query = urlencode(dict.fromkeys(names, value))
        for path in paths:
            yield "get", f"{path}?{query}", None
            yield "post", path, query


@pytest.fixture
def signed_in(user_factory, moderator):
    """A client signed in as a patient or a moderator, or a visitor's; ``.person`` says who."""
    people = {"visitor": None, "patient": user_factory(), "moderator": moderator}

    def client_for(role: str) -> Client:
        client = Client(raise_request_exception=False)
        if people[role] is not None:
            client.force_login(people[role])
        client.person = people[role]
        return client

    return client_for


@pytest.fixture
def exceptions():
    """The exceptions raised while handling requests, for the failure message."""
    seen = []

    def record(sender, request=None, **kwargs):
        seen.append(repr(sys.exception()))

    got_request_exception.connect(record)
    yield seen
    got_request_exception.disconnect(record)


@pytest.mark.parametrize("role", ["visitor", "patient", "moderator"])
def test_no_url_answers_hostile_input_with_a_server_error(role, signed_in, exceptions):
    client = signed_in(role)
    failures = []
    for method, path, form in hostile_requests():
        if method == "get":
            response = client.get(path)
        else:
            response = client.post(path, form, content_type=FORM)
        if response.status_code >= 500:
            cause = exceptions[-1] if exceptions else ""
            failures.append(f"{method.upper()} {path[:120]} -> {response.status_code} {cause}")
        if client.person is not None and settings.SESSION_COOKIE_NAME in response.cookies:
            # Signed out, or the session changed: sign back in for the next one.
            client.force_login(client.person)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ["visitor", "patient", "moderator"])
def test_no_one_here_may_open_a_models_admin_page(role, signed_in):
    client = signed_in(role)
    for route, pattern in url_patterns():
        if admin_model(pattern) is not None and "{}" not in route:
            assert client.get(f"/{route}").status_code in {302, 403}, route


# Each answered 500 before: PostgreSQL refused the NUL, int() the digits, the ORM "abc".
REPORTED = [
    ("patient", "get", "/questions/?category=%00", None),
    ("patient", "get", "/questions/?tag=%00", None),
    ("visitor", "get", "/tags/%00/", None),
    ("visitor", "get", "/doctors/?specialty=%00", None),
    ("patient", "post", "/notifications/read/", {"id": "²"}),
    ("patient", "post", "/notifications/read/", {"id": "9" * 5000}),
    ("patient", "post", "/notifications/read/", {"id": ["1", "٣"]}),
    ("moderator", "post", "/moderation/words/", {"remove": "abc"}),
    ("moderator", "post", "/moderation/words/", {"remove": "9" * 30}),
]


@pytest.mark.parametrize("role, method, path, data", REPORTED)
def test_reported_hostile_input_is_a_bad_request(role, method, path, data, signed_in):
    assert getattr(signed_in(role), method)(path, data).status_code == 400


def test_nul_in_a_form_field_is_a_bad_request(signed_in):
    response = signed_in("patient").post("/questions/ask/", {"title": "Tired\x00", "body": "x"})
    assert response.status_code == 400


def test_a_session_cookie_holding_nul_is_ignored(client, patient):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefghij\x00"
    response = client.get("/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
