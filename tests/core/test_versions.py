"""A page read asks Redis once for its versions and its session (core.versions)."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core.versions import ReadTogetherMiddleware
from forum import listcache
from tests.core.test_faults import (  # noqa: F401 - redis_server is a fixture
    needs_redis_server,
    redis_server,
    signed_in_as,
    use_redis,
)

pytestmark = [needs_redis_server, pytest.mark.django_db]


@pytest.fixture
def site(settings, redis_server):  # noqa: F811 - the fixture imported above
    """The site on a redis-server of the test's own."""
    use_redis(settings, redis_server)
    return redis_server


def commands(watcher) -> dict[str, int]:
    """The commands the server has answered so far, by name."""
    stats = watcher.info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def asked(server, read) -> dict[str, int]:
    """The commands ``read()`` sent to the server, by name."""
    watcher = server.client()
    before = commands(watcher)
    read()
    after = commands(watcher)
    after["info"] -= 1  # the watcher's own
    return {
        name: calls - before.get(name, 0)
        for name, calls in after.items()
        if calls != before.get(name, 0)
    }


@pytest.mark.usefixtures("kept")
@pytest.mark.parametrize("url", ["/", "/questions/"])
def test_a_members_page_read_is_one_round_trip_to_redis(client, site, patient, url):
    client.force_login(patient)
    client.get(url)  # the shared page and the member kept
    pages = []
    assert asked(site, lambda: pages.append(client.get(url))) == {"mget": 1}
    assert pages[0].status_code == 200
    assert signed_in_as(pages[0].content.decode()) == patient.name


def test_a_visitors_page_read_is_one_round_trip_to_redis(client, site, question_factory):
    question = question_factory(answers=1)
    client.get(question.get_absolute_url())
    assert asked(site, lambda: client.get(question.get_absolute_url())) == {"mget": 1}


def test_a_session_ended_elsewhere_is_not_read_back(client, site, patient):
    client.force_login(patient)
    assert signed_in_as(client.get("/questions/").content.decode()) == patient.name
    other = client.session
    other.flush()  # signed out in another process: the session is gone from Redis and the database
    assert signed_in_as(client.get("/questions/").content.decode()) is None


def test_a_version_moved_on_during_the_request_is_asked_again(site):
    seen = []

    def view(request):
        seen.append(listcache.version())
        listcache._version.bump()
        seen.append(listcache.version())
        return HttpResponse()

    ReadTogetherMiddleware(view)(RequestFactory().get("/"))
    assert seen[0] is not None
    assert seen[1] == seen[0] + 1


def test_redis_stopped_leaves_each_to_ask_on_its_own(client, site, patient):
    client.force_login(patient)
    site.stop()
    response = client.get("/questions/")
    assert response.status_code == 200
    assert signed_in_as(response.content.decode()) == patient.name


def test_a_visitors_page_that_keeps_nothing_asks_redis_nothing(client, site):
    client.get("/accounts/login/")
    assert asked(site, lambda: client.get("/accounts/login/")) == {}
