"""Django's Redis cache, with its connections and clients shared by the whole process.

Django's ``RedisCacheClient`` keeps its connection pool on the cache object
and builds a new ``redis.Redis`` client for every operation. Two costs
follow, both measured on the question list (docs/BENCHMARKS.md):

- Under ASGI, Django keeps cache objects per request context, so every
  request made a new pool and opened a new connection to Redis, closed only
  when the garbage collector got to it.
- With redis-py 8, the ``redis.Redis`` constructor registers a few hundred
  response callbacks, which on a cached page cost more than the network
  round trip it wraps.

Pools and clients here live in the module, one per server and set of
options, for every thread and request of the process. Both are safe to
share: each command borrows a connection from the pool and gives it back.
"""

import threading

from django.core.cache.backends import redis as django_redis

_shared: dict[tuple, object] = {}
_lock = threading.RLock()  # a client is made while holding it, and makes its pool


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, serializer=None, pool_class=None, parser_class=None, **options):
        super().__init__(
            servers,
            serializer=serializer,
            pool_class=pool_class,
            parser_class=parser_class,
            **options,
        )
        self._configuration = repr((pool_class, parser_class, sorted(options.items())))

    def _shared(self, kind: str, index: int, make):
        key = (kind, self._servers[index], self._configuration)
        found = _shared.get(key)
        if found is None:
            with _lock:
                found = _shared.get(key)
                if found is None:
                    found = _shared[key] = make()
        return found

    def _pool(self, index: int):
        return self._shared(
            "pool",
            index,
            lambda: self._pool_class.from_url(self._servers[index], **self._pool_options),
        )

    def _get_connection_pool(self, write):
        return self._pool(self._get_connection_pool_index(write))

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        return self._shared(
            "client", index, lambda: self._client(connection_pool=self._pool(index))
        )


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
