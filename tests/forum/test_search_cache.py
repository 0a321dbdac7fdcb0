"""Search results kept in the shared cache: the same pages, fewer queries, never stale."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from forum import listcache, search, services
from moderation import services as moderation_services
from moderation.models import Case

pytestmark = pytest.mark.django_db

URL = reverse("forum:search")
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def _page(client, **params) -> bytes:
    response = client.get(URL, params)
    assert response.status_code == 200
    return _CSRF.sub(b"", response.content)


@pytest.fixture
def stored(monkeypatch) -> list[str]:
    """The keys of the results the search view keeps, as it keeps them."""
    keys = []
    keep = search.kept_store

    def recorded(key, *args, **kwargs):
        keys.append(key)
        return keep(key, *args, **kwargs)

    monkeypatch.setattr(search, "kept_store", recorded)
    return keys


@pytest.fixture
def forum(question_factory, patient, user_factory, category):
    """Published questions on fatigue, one of them the patient's anonymous one, and
    the patient's own unpublished ones that only they and moderators may find."""
    for number in range(21):  # two pages of results
        question_factory(answers=number % 2, tags=["Nutrition"])
    question_factory(author=patient, is_anonymous=True, title="Fatigue and my stoma, anonymously")
    question_factory(author=user_factory(), title="Fatigue after radiotherapy", answers=2)
    turned_down = question_factory(author=patient, title="Fatigue question the moderators refused")
    services.post_withdraw(post=turned_down, state="rejected")
    return turned_down


@pytest.fixture
def uncached(settings):
    def page(client, **params) -> bytes:
        settings.SHUKANG_SEARCH_CACHE = False
        try:
            return _page(client, **params)
        finally:
            settings.SHUKANG_SEARCH_CACHE = True

    return page


@pytest.mark.parametrize("who", ["visitor", "other member"])
def test_a_row_kept_from_one_search_is_marked_for_the_next(
    client, forum, who, user_factory, uncached
):
    if who != "visitor":
        client.force_login(user_factory())
    _page(client, q="fatigue")  # every fatigue question's row kept, "fatigue" marked
    fresh = uncached(client, q="radiotherapy")
    page = _page(client, q="radiotherapy")
    assert page == fresh
    assert b"<mark>radiotherapy</mark>" in page and b"<mark>Fatigue</mark>" not in page
    assert b"<!--title:" not in page and b"<!--snippet:" not in page


def test_every_process_marks_the_kept_rows_alike():
    """Rows are kept in the shared cache: another process must find its marks in them."""
    script = "import django; django.setup(); from forum.search import _marks; print(*_marks())"
    env = {**os.environ, "DJANGO_SECRET_KEY": django_settings.SECRET_KEY}
    other = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.split() == list(search._marks())


@pytest.mark.parametrize("who", ["visitor", "patient", "other member", "physician", "moderator"])
@pytest.mark.parametrize(
    "params",
    [
        {"q": "fatigue"},
        {"q": "fatigue", "page": "2"},
        {"q": "fatigue", "tag": "nutrition"},
        {"q": "stoma"},
        {"q": "nothing-matches-this"},
    ],
)
def test_a_kept_page_is_the_page_searched_afresh(
    client, forum, who, params, patient, doctor, moderator, user_factory, uncached
):
    viewer = {
        "patient": patient,
        "other member": user_factory(),
        "physician": doctor,
        "moderator": moderator,
    }.get(who)
    if viewer is not None:
        client.force_login(viewer)
    fresh = uncached(client, **params)
    first = _page(client, **params)  # searched, then kept
    again = _page(client, **params)  # from the cache where this reader may share it
    assert first == fresh
    assert again == fresh


def test_each_reader_sees_only_what_they_may(client, forum, patient, moderator, user_factory):
    refused = b"the moderators refused"  # the title, its word marked

    def both_pages() -> bytes:
        return _page(client, q="fatigue") + _page(client, q="fatigue", page="2")

    assert refused not in both_pages()
    client.force_login(user_factory())
    assert refused not in both_pages()
    page = _page(client, q="stoma")
    assert b"Anonymous patient" in page and patient.name.encode() not in page
    client.force_login(patient)
    assert refused in both_pages()
    assert patient.name.encode() in _page(client, q="stoma")  # their own name, to them alone
    client.force_login(moderator)
    assert refused in both_pages()
    client.logout()
    assert refused not in both_pages()


def test_members_and_visitors_share_one_entry_and_moderators_none(
    client, forum, user_factory, moderator, stored
):
    _page(client, q="fatigue")
    assert len(stored) == 1 and search.kept_get(stored[0]) is not None
    assert search.rows_get(stored[0], 1) is not None  # and the first page of its rows
    client.force_login(user_factory())
    _page(client, q="fatigue")
    client.force_login(moderator)
    _page(client, q="fatigue")
    assert len(stored) == 1


def test_a_new_published_question_is_found_by_the_next_search(
    client, question_factory, django_capture_on_commit_callbacks
):
    question_factory(title="Hiccups after chemotherapy")
    assert b"hiccups</mark> at night" not in _page(client, q="hiccups")
    with django_capture_on_commit_callbacks(execute=True):
        question_factory(title="Persistent hiccups at night")
    assert b"hiccups</mark> at night" in _page(client, q="hiccups")


def test_a_new_answer_is_searched_by_the_next_search(
    client, question_factory, doctor, django_capture_on_commit_callbacks
):
    question = question_factory(title="Cold fingers after the infusion")
    assert b"after the infusion" not in _page(client, q="neuropathy")
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_create(
            question=question, author=doctor, body="That is oxaliplatin neuropathy; keep warm."
        )
    assert b"after the infusion" in _page(client, q="neuropathy")


def test_a_held_or_rejected_question_is_never_found(
    client, settings, question_factory, user_factory, moderator, django_capture_on_commit_callbacks
):
    question_factory(title="Mouth ulcers during chemotherapy")
    assert b"during chemotherapy" in _page(client, q="ulcers")
    settings.SHUKANG_HOLD_FIRST_POSTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        held = question_factory(author=user_factory(), title="Ulcers and a new mouthwash")
    assert held.state == "pending"
    member = user_factory()
    for viewer in (None, member):
        if viewer is not None:
            client.force_login(viewer)
        assert b"new mouthwash" not in _page(client, q="ulcers")
    case = Case.objects.latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.case_reject(case_id=case.pk, moderator=moderator, reason="Advert")
    held.refresh_from_db()
    assert held.state == "rejected"
    for viewer in (None, member):
        client.logout()
        if viewer is not None:
            client.force_login(viewer)
        assert b"new mouthwash" not in _page(client, q="ulcers")


def test_nothing_is_kept_while_the_shared_cache_is_unreachable(
    client, question_factory, monkeypatch, stored
):
    question_factory(title="Fatigue in the evening")
    monkeypatch.setattr(listcache, "version", lambda: None)
    assert b"in the evening" in _page(client, q="fatigue")
    assert stored == []


@pytest.mark.parametrize(
    "query",
    [
        "fatigue " * 20,  # past CACHED_QUERY_MAX
        "化疗" * 100,
        "\ufffd\u202e fatigue",
        "%00",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "a" * 500,
    ],
)
def test_long_and_odd_queries_get_a_page(client, question_factory, query, stored):
    question_factory(title="Fatigue in the morning")
    response = client.get(URL, {"q": query, "page": "x", "category": "../", "tag": "%"})
    assert response.status_code == 200
    assert b"<script>alert" not in response.content
    stripped = query.strip()[:200]
    assert bool(stored) == (len(stripped) <= search.CACHED_QUERY_MAX)


# Searching afresh costs test_views.test_search_query_count_is_flat's queries;
# a kept search costs none of its own: the session's user with their bell for
# a member, and the look for their own unpublished questions that match.
KEPT_VISITOR_QUERIES = 0
KEPT_MEMBER_QUERIES = 2


@pytest.mark.parametrize("n_questions", [2, 15])
@pytest.mark.parametrize("signed_in", [False, True])
def test_kept_search_query_count_is_flat(
    client, question_factory, user_factory, n_questions, signed_in, django_assert_num_queries
):
    for _ in range(n_questions):
        question_factory(answers=1, tags=["Nutrition"])
    if signed_in:
        client.force_login(user_factory())
    client.get(URL, {"q": "fatigue"})  # searched and kept
    expected = KEPT_MEMBER_QUERIES if signed_in else KEPT_VISITOR_QUERIES
    with django_assert_num_queries(expected):
        response = client.get(URL, {"q": "fatigue"})
    assert len(response.context["page"].object_list) == n_questions
