"""Django's Redis cache, with one client, pool and connections for the whole process.

Django's Redis cache costs more than the round trip it wraps, three ways,
all measured on the question list (docs/BENCHMARKS.md):

- Under ASGI, Django keeps cache objects per request context, so every
  request built a new ``RedisCacheClient``, whose connection pool opened a
  new connection to Redis (closed only when the garbage collector got to
  it), and whose constructor asks ``importlib.metadata`` for redis-py's
  version (about 1 ms, reading the package's metadata file).
- ``get_client`` builds a new ``redis.Redis`` for every operation, and with
  redis-py 8 that constructor registers a few hundred response callbacks.

Here the client lives in the module, one per server list and options, and
keeps its pools and ``redis.Redis`` clients for every thread and request of
the process. All are safe to share: each command borrows a connection from
the pool and gives it back.
"""

import threading

from django.core.cache.backends import redis as django_redis
from django.utils.functional import cached_property

_clients: dict[tuple, "RedisCacheClient"] = {}
_lock = threading.Lock()


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._lock = threading.Lock()

    def _get_connection_pool(self, write):
        return self._pool(self._get_connection_pool_index(write))

    def _pool(self, index: int):
        if index not in self._pools:
            with self._lock:
                if index not in self._pools:
                    self._pools[index] = self._pool_class.from_url(
                        self._servers[index], **self._pool_options
                    )
        return self._pools[index]

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pool(index)
            with self._lock:
                client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    @cached_property
    def _cache(self):
        configuration = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(configuration)
        if client is None:
            with _lock:
                client = _clients.get(configuration)
                if client is None:
                    client = RedisCacheClient(self._servers, **self._options)
                    _clients[configuration] = client
        return client
