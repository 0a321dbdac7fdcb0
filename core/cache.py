"""Django's Redis cache: one client per process, and no single point of failure.

Connections. Django's Redis cache costs more than the round trip it wraps,
three ways, all measured on the question list (docs/BENCHMARKS.md):

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

Outages. Redis accelerates the site; it must never take pages or writes
down with it. When an operation meets a Redis or connection error, the
client marks Redis down and skips it for ``retry_after`` seconds (OPTIONS;
2 by default), so a Redis that hangs costs one socket timeout per process
and pause, not one per operation. Meanwhile each view of the cache does
without it in its own way:

- the cache itself keeps working in the process's own memory, so rate
  limits (allauth's too) still count, per process;
- ``strict(cache)`` raises CacheUnavailable: the forum's version answers
  None, so no process serves pages cached under a version the others cannot
  see (forum.listcache), and /healthz names the cache;
- ``empty_when_down(cache)`` reads as empty and stores nothing, for data
  whose truth is elsewhere: sessions then live in the database alone
  (core.sessions), so signing out in one process ends the session in all.

Every key written or deleted while Redis was down is remembered (up to
STALE_KEYS_MAX, then its whole key space), and the first operation after
the pause deletes those keys from Redis before anything reads it again:
Redis's older copy of a session ended during the outage must not revive it.
Only then is Redis used again and the process's own memory emptied.
"""

import copy
import logging
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.utils.functional import cached_property
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What redis-py raises when Redis is stopped, restarting or hanging.
CACHE_ERRORS = (RedisError, OSError)
RETRY_AFTER = 2.0
# Each process's stand-in while Redis is down: rate-limit counters, mostly.
MEMORY_MAX_ENTRIES = 10_000
# Past this many keys changed during one outage, the whole key space of the
# cache is deleted when Redis returns instead (a SCAN, not a flush: the
# channel layer's groups share the database).
STALE_KEYS_MAX = 100_000
_DELETE_BATCH = 1000

_clients: dict[tuple, "RedisCacheClient"] = {}
_lock = threading.Lock()


class CacheUnavailable(RedisError):
    """Redis cannot be reached just now; raised by ``strict(cache)`` instead of falling back."""


def strict(backend):
    """``backend``, raising CacheUnavailable while Redis is down; other backends as they are."""
    return getattr(backend, "strict", backend)


def empty_when_down(backend):
    """``backend``, empty and storing nothing while Redis is down; other backends as they are."""
    return getattr(backend, "empty_when_down", backend)


def _made_key(key, key_prefix, version):
    return key


class _Memory(LocMemCache):
    """The process's own memory, holding keys already made by the Redis backend."""

    def __init__(self):
        super().__init__(
            f"core.cache.memory.{id(self)}",
            {"KEY_FUNCTION": _made_key, "OPTIONS": {"MAX_ENTRIES": MEMORY_MAX_ENTRIES}},
        )

    def validate_key(self, key):
        """Keys were validated when the Redis backend made them."""


UP, TRY = "up", "try"


class _Outage:
    """Whether Redis is skipped now, what to delete from it on return, the memory meanwhile.

    One per client, so per process and server list. ``lock`` orders the
    degraded operations against the return: a key is either remembered
    before the stale keys are deleted, or its operation goes to Redis.
    """

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0
        self.trying = False
        self.stale: set[str] = set()
        self.stale_patterns: set[str] = set()
        self.memory = _Memory()

    def turn(self) -> str | None:
        """How this operation uses Redis: UP, TRY (the first after a pause) or None (do without)."""
        if not self.down:
            return UP
        with self.lock:
            if not self.down:
                return UP
            if self.trying or time.monotonic() < self.retry_at:
                return None
            self.trying = True
            return TRY

    def begin(self, error: BaseException) -> None:
        with self.lock:
            first = not self.down
            self.down = True
            self.trying = False
            self.retry_at = time.monotonic() + self.retry_after
        if first:
            logger.warning(
                "Redis cache unreachable (%s: %s); doing without it, retrying every %.0f s",
                type(error).__name__,
                error,
                self.retry_after,
            )

    def end(self, client: "RedisCacheClient") -> None:
        """Delete from Redis what changed while it was down, then use it again; raises if down."""
        redis = client.get_client(write=True)
        deleted, scanned = 0, set()
        try:
            while True:
                with self.lock:
                    keys, patterns = list(self.stale), list(self.stale_patterns)
                if not keys and not patterns:
                    redis.ping()
                for start in range(0, len(keys), _DELETE_BATCH):
                    redis.delete(*keys[start : start + _DELETE_BATCH])
                for pattern in patterns:
                    _delete_matching(redis, pattern)
                deleted += len(keys)
                scanned.update(patterns)
                with self.lock:
                    self.stale.difference_update(keys)
                    self.stale_patterns.difference_update(patterns)
                    if not self.stale and not self.stale_patterns:
                        self.down = False
                        self.trying = False
                        self.memory.clear()
                        break
        except BaseException:
            with self.lock:
                self.trying = False
            raise
        logger.warning(
            "Redis cache reachable again; %d key(s) changed meanwhile deleted from it%s",
            deleted,
            f", and every key matching {', '.join(sorted(scanned))}" if scanned else "",
        )

    def remember(self, keys, pattern: str) -> None:
        """Note keys changed while down; call with ``lock`` held."""
        if pattern in self.stale_patterns:
            return
        for key in keys:
            if len(self.stale) >= STALE_KEYS_MAX:
                logger.error(
                    "Over %d keys changed while Redis was down: all of %s go when it returns",
                    STALE_KEYS_MAX,
                    pattern,
                )
                self.stale_patterns.add(pattern)
                return
            self.stale.add(key)


def _delete_matching(redis, pattern: str) -> None:
    batch = []
    for key in redis.scan_iter(match=pattern, count=_DELETE_BATCH):
        batch.append(key)
        if len(batch) == _DELETE_BATCH:
            redis.delete(*batch)
            batch = []
    if batch:
        redis.delete(*batch)


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, retry_after: float = RETRY_AFTER, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._lock = threading.Lock()
        self.outage = _Outage(retry_after)

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


# What each view does while Redis is down.
MEMORY, RAISE, EMPTY = "memory", "raise", "empty"


class RedisCache(django_redis.RedisCache):
    when_down = MEMORY

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

    def _view(self, when_down: str) -> "RedisCache":
        view = copy.copy(self)
        view.__dict__.pop("strict", None)
        view.__dict__.pop("empty_when_down", None)
        view.when_down = when_down
        return view

    @cached_property
    def strict(self) -> "RedisCache":
        return self._view(RAISE)

    @cached_property
    def empty_when_down(self) -> "RedisCache":
        return self._view(EMPTY)

    @cached_property
    def _key_pattern(self) -> str:
        """A SCAN pattern matching every key this cache makes."""
        made = self.make_key("")
        return "".join("\\" + c if c in "*?[]\\" else c for c in made) + "*"

    def _run(self, in_redis, in_memory, *, empty, changes=()):
        """``in_redis()``, or while Redis is down what this view does instead.

        ``in_memory(memory)`` runs on the process's memory; ``empty`` is the
        answer of an empty cache (an exception is raised). ``changes`` are
        the keys the operation writes or deletes.
        """
        outage = self._cache.outage
        while True:
            turn = outage.turn()
            if turn is not None:
                try:
                    if turn == TRY:
                        outage.end(self._cache)
                    return in_redis()
                except CACHE_ERRORS as error:
                    outage.begin(error)
            with outage.lock:
                if not outage.down:
                    continue  # Redis came back while this operation waited for the lock.
                outage.remember(changes, self._key_pattern)
                if self.when_down == RAISE:
                    raise CacheUnavailable("Redis is unreachable; retrying shortly")
                if self.when_down == EMPTY:
                    if isinstance(empty, Exception):
                        raise empty
                    return empty
                return in_memory(outage.memory)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        return self._run(
            lambda: self._cache.add(key, value, timeout),
            lambda memory: memory.add(key, value, timeout),
            empty=False,
            changes=[key],
        )

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(
            lambda: self._cache.get(key, default),
            lambda memory: memory.get(key, default),
            empty=default,
        )

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        self._run(
            lambda: self._cache.set(key, value, timeout),
            lambda memory: memory.set(key, value, timeout),
            empty=None,
            changes=[key],
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        return self._run(
            lambda: self._cache.touch(key, timeout),
            lambda memory: memory.touch(key, timeout),
            empty=False,
        )

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(
            lambda: self._cache.delete(key),
            lambda memory: memory.delete(key),
            empty=False,
            changes=[key],
        )

    def get_many(self, keys, version=None):
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = self._run(
            lambda: self._cache.get_many(key_map.keys()),
            lambda memory: memory.get_many(key_map.keys()),
            empty={},
        )
        return {key_map[k]: v for k, v in found.items()}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(
            lambda: self._cache.has_key(key),
            lambda memory: memory.has_key(key),
            empty=False,
        )

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run(
            lambda: self._cache.incr(key, delta),
            lambda memory: memory.incr(key, delta),
            empty=ValueError(f"Key '{key}' not found."),
            changes=[key],
        )

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        safe_data = {self.make_and_validate_key(k, version=version): v for k, v in data.items()}
        timeout = self.get_backend_timeout(timeout)

        def in_redis():
            self._cache.set_many(safe_data, timeout)
            return []

        def in_memory(memory):
            memory.set_many(safe_data, timeout)
            return []

        return self._run(in_redis, in_memory, empty=list(data), changes=list(safe_data))

    def delete_many(self, keys, version=None):
        if not keys:
            return
        safe_keys = [self.make_and_validate_key(key, version=version) for key in keys]
        self._run(
            lambda: self._cache.delete_many(safe_keys),
            lambda memory: memory.delete_many(safe_keys),
            empty=None,
            changes=safe_keys,
        )

    def clear(self):
        return self._run(self._cache.clear, lambda memory: memory.clear(), empty=False)
