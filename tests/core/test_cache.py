"""The project's Redis cache backend (core.cache) against a real Redis."""

import os

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "redis-test": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "shukang-test-cache",
        },
    }
    backend = caches["redis-test"]
    yield backend
    backend.delete_many(["page", "count", "a", "b"])


def test_values_round_trip_through_redis(redis_cache):
    redis_cache.set("page", "<p>一个页面</p>", 30)
    assert redis_cache.get("page") == "<p>一个页面</p>"
    assert redis_cache.add("page", "other", 30) is False
    redis_cache.set("count", 1, None)
    assert redis_cache.incr("count") == 2
    redis_cache.set_many({"a": 1, "b": [2]}, 30)
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": [2]}
    redis_cache.delete("page")
    assert redis_cache.get("page", "gone") == "gone"


def test_one_client_serves_every_call(redis_cache):
    redis_cache.get("a")
    first = redis_cache._cache.get_client()
    redis_cache.set("a", 1, 30)
    assert redis_cache._cache.get_client(write=True) is first


def test_every_request_shares_one_connection_pool(redis_cache, settings):
    """Under ASGI Django makes cache objects per request; the connections stay shared."""
    from core.cache import RedisCache

    again = RedisCache(settings.CACHES["redis-test"]["LOCATION"], {"KEY_PREFIX": "x"})
    assert again is not redis_cache
    assert again._cache is redis_cache._cache  # built once: reading redis-py's version is slow
    assert again._cache.get_client() is redis_cache._cache.get_client()
    assert again._cache._get_connection_pool(True) is redis_cache._cache._get_connection_pool(True)


@pytest.mark.django_db
def test_asgi_requests_do_not_open_a_connection_each(settings):
    import asyncio
    import contextvars

    import redis
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    url = os.environ["REDIS_URL"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": url},
    }
    server = redis.Redis.from_url(url)

    def connections_opened() -> int:
        return server.info("stats")["total_connections_received"]

    client = AsyncClient()

    async def requests():
        # Each in a fresh context, as an ASGI server runs each request.
        for _ in range(20):
            task = asyncio.create_task(client.get("/healthz"), context=contextvars.Context())
            assert (await task).status_code == 200

    async_to_sync(requests)()  # the first may open the pool's connection
    before = connections_opened()
    async_to_sync(requests)()
    # Another test process may connect meanwhile; 20 requests must not open 20.
    assert connections_opened() - before < 5
