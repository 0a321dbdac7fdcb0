"""Visitors' whole pages kept in each process (core.pagecache), seen through the question list."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from core.pagecache import PLACEHOLDER
from forum import listcache
from forum.models import Question

pytestmark = pytest.mark.django_db

URL = "/questions/"


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_cached_page_costs_no_query_and_gives_each_visitor_a_working_token(
    question_factory, django_assert_num_queries
):
    question_factory(title="Mouth sores during FOLFOX, what helps?")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(URL)
    with django_assert_num_queries(0):
        response = second.get(URL)
    page = response.content.decode()
    assert "Mouth sores during FOLFOX, what helps?" in page
    assert PLACEHOLDER not in page
    token = csrf_token_of(page)
    assert token != csrf_token_of(first.get(URL).content.decode())
    # The language switcher on the cached page works: its token matches the cookie.
    switched = second.post(
        reverse("set_language"), {"language": "zh-hans", "next": URL, "csrfmiddlewaretoken": token}
    )
    assert switched.status_code == 302
    assert "提问" in second.get(URL).content.decode()


def test_each_language_has_its_own_page(client, question_factory):
    question_factory()
    assert 'lang="en"' in client.get(URL).content.decode()
    chinese = Client(headers={"accept-language": "zh-hans"})
    assert 'lang="zh-hans"' in chinese.get(URL).content.decode()
    assert 'lang="en"' in client.get(URL).content.decode()


def test_a_visitor_with_a_message_waiting_gets_it(client, patient, question_factory):
    question_factory()
    Client().get(URL)  # another visitor fills the cache
    client.force_login(patient)
    response = client.post(reverse("account_logout"), {"next": URL}, follow=True)
    assert response.redirect_chain[-1][0] == URL
    assert "You have signed out." in response.content.decode()


def test_signed_in_people_get_their_own_header(client, patient, question_factory):
    question_factory()
    client.get(URL)
    client.force_login(patient)
    page = client.get(URL).content.decode()
    assert patient.name in page and "Sign out" in page


def test_a_page_is_not_reused_after_the_shared_cache_was_emptied(client, question_factory):
    question = question_factory(title="Before the restart of the cache")
    client.get(URL)
    # The shared cache loses everything (Redis restarted) while this process keeps
    # its pages; a change made meanwhile must show.
    Question.objects.filter(pk=question.pk).update(title="After the restart of the cache")
    cache.delete(listcache.VERSION_KEY)
    page = client.get(URL).content.decode()
    assert "After the restart of the cache" in page


def test_made_up_parameters_are_not_kept(client, question_factory, django_assert_num_queries):
    question_factory()
    client.get(URL, {"sort": "active"})
    with django_assert_num_queries(0):
        client.get(URL, {"sort": "active"})
    client.get(URL, {"utm_source": "wechat"})
    with django_assert_num_queries(4):  # categories, count, questions, their tags
        assert client.get(URL, {"utm_source": "wechat"}).status_code == 200


@pytest.mark.urls("tests.core.pagecache_urls")
def test_only_successful_pages_are_kept(client):
    from tests.core import pagecache_urls

    pagecache_urls.CALLS.clear()
    for _ in range(2):
        assert client.get("/gone/").status_code == 410
        assert client.get("/fine/").status_code == 200
    assert pagecache_urls.CALLS == ["gone", "fine", "gone"]


def test_pages_are_served_uncached_while_redis_is_unreachable(client, settings, question_factory):
    question_factory(title="Still readable while the cache is down")
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    for _ in range(2):
        response = client.get(URL)
        assert response.status_code == 200
        assert "Still readable while the cache is down" in response.content.decode()
