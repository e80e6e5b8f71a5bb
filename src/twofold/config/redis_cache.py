"""Redis as an accelerator, never a single point of failure: Django's Redis cache with short
socket timeouts, a circuit breaker, and the database cache standing in while Redis is out.

With Redis down every request with a session answered 500, and a frozen Redis held each thread
for redis-py's 5 s socket timeout per command (5 to 10 s a request), so that even ``/healthz`` found
no free thread. Here (ASVS 16.5.2):

- a command waits at most :data:`SOCKET_TIMEOUT` (250 ms) for Redis, and is never retried;
- the first failure opens the breaker: for :data:`RETRY_AFTER` seconds no thread of this process
  waits for Redis at all; then one thread tries it again (the others still go without), and its
  success closes the breaker (no restart needed). State is per process, shared by its threads;
- while the breaker is open, every cache operation runs on the database cache (``OPTIONS
  ["FALLBACK"]``, default ``"database"``): allauth's rate limits keep counting, in PostgreSQL.
  Their counts start afresh at each switch (the other store's hits are not seen): at most one
  extra allowance per limit at each outage and each recovery;
- the session store (sessions/stores) does not fall back: sessions live in the database, Redis
  holds copies. It uses :meth:`FailoverRedisCache.get_current` and ``set_current`` /
  ``delete_current``, which answer "Redis is down" instead, and which drop the copies Redis may
  hold from before a gap: a process that missed a write (failed, or skipped while the breaker was
  open) raises the shared *continuity* counter in Redis before it uses Redis again, and a copy
  written under another count is never read (a session ended during the outage stays ended).

What must never be forgotten (replay guards: authenticator-app steps, SAML assertion ids) is not
kept here but in the database cache directly (``caches["database"]``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT = 0.25  # seconds: a healthy Redis answers in well under a millisecond
RETRY_AFTER = 2.0  # seconds without Redis after a failure, then one thread tries it again
CONTINUITY_KEY = "redis:continuity"
CONTINUITY_MARK = ":continuity"  # beside a copy: the continuity it was written under
# What says "Redis cannot be used now": unreachable, too slow, loading, a read-only replica.
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, OSError)

T = TypeVar("T")


@dataclass
class Breaker:
    """One Redis server's state in this process, shared by its threads."""

    open_until: float = 0.0  # time.monotonic(); 0: closed, Redis is used
    reason: str | None = None  # why it opened, for /readyz
    continuity: int | None = None  # the counter last seen; None: raise it before using Redis
    lock: threading.Lock = field(default_factory=threading.Lock)

    def admits(self) -> bool:
        """May this call use Redis? While open, one call after ``RETRY_AFTER`` may (the probe);
        it pushes the next probe back, so the other threads keep going without Redis."""
        with self.lock:
            if not self.open_until:
                return True
            now = time.monotonic()
            if now < self.open_until:
                return False
            self.open_until = now + RETRY_AFTER
            return True

    def failed(self, error: BaseException) -> None:
        with self.lock:
            first = not self.open_until
            self.open_until = time.monotonic() + RETRY_AFTER
            self.reason = f"{type(error).__name__}: {error}"
            self.continuity = None  # a write may have been missed: raise it at the next use
        if first:
            logger.warning("Redis unavailable, using the database until it is back: %s", error)

    def succeeded(self) -> None:
        with self.lock:
            recovered, self.open_until, self.reason = bool(self.open_until), 0.0, None
        if recovered:
            logger.warning("Redis is back: the cache and session copies use it again")

    def observe(self, continuity: int) -> None:
        """The counter as Redis holds it now; not over a pending raise (another thread's
        failure since): that raise must still happen."""
        with self.lock:
            if self.continuity is not None:
                self.continuity = continuity

    @property
    def is_open(self) -> bool:
        return bool(self.open_until)


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, Breaker())


class FailoverRedisCache(RedisCache):
    """Django's ``RedisCache``, falling back to the database cache while Redis is out (above).

    ``OPTIONS`` are redis-py's connection options, plus ``FALLBACK`` (the database cache's
    alias); ``socket_timeout`` and ``socket_connect_timeout`` default to 250 ms.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self._fallback_alias = str(options.pop("FALLBACK", "database"))
        options.setdefault("socket_timeout", SOCKET_TIMEOUT)
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker = breaker_for(server)

    # --- The cache API: Redis, else the database cache ------------------------------------------

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._either("get", key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("touch", key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._either("delete", key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._either("get_many", keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._either("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._either("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> Any:
        return self._either("delete_many", keys, version)

    def clear(self) -> Any:
        return self._either("clear")

    # --- Redis only, for copies of what the database holds (sessions) ---------------------------

    def get_current(self, keys: list[str]) -> dict[str, Any] | None:
        """The copies of ``keys`` written since Redis's last gap, in one round trip; None while
        Redis cannot be used: read the database. A copy counts only if the continuity it was
        written under (kept beside it, so Django's own cached_db reads the copy unchanged) is
        Redis's now."""

        def read() -> dict[str, Any]:
            marks = [key + CONTINUITY_MARK for key in keys]
            found = RedisCache.get_many(self, [CONTINUITY_KEY, *keys, *marks])
            current = int(found.get(CONTINUITY_KEY, 0))
            self.breaker.observe(current)
            return {
                key: found[key]
                for key, mark in zip(keys, marks, strict=True)
                if key in found and found.get(mark) == current
            }

        return self._redis_only(read)

    def set_current(self, key: str, value: Any, timeout: Any) -> bool:
        """Keep a copy of ``value``, one round trip; False when it could not be written."""
        continuity = self.breaker.continuity
        if continuity is None:
            return False  # a raise is pending (another thread failed): no copy until then
        data = {key: value, key + CONTINUITY_MARK: continuity}
        return self._redis_only(lambda: RedisCache.set_many(self, data, timeout)) is not None

    def delete_current(self, key: str) -> bool:
        """Drop the copy; False when Redis could not be told (the continuity rule drops it)."""
        keys = [key, key + CONTINUITY_MARK]

        def delete() -> bool:
            RedisCache.delete_many(self, keys)
            return True

        return self._redis_only(delete) is not None

    @property
    def unavailable_reason(self) -> str | None:
        """Why Redis is not used right now (the breaker is open), for /readyz; else None."""
        return self.breaker.reason if self.breaker.is_open else None

    def ping(self) -> bool:
        """One round trip to Redis through the breaker: is it usable now?"""
        return self._redis_only(lambda: bool(self._client().ping())) is True

    # --- How -------------------------------------------------------------------------------------

    def _client(self) -> redis.Redis:
        return self._cache.get_client(write=True)  # type: ignore[attr-defined]

    def _either(self, name: str, *args: Any) -> Any:
        if self.breaker.admits():
            try:
                result = self._on_redis(lambda: getattr(RedisCache, name)(self, *args))
            except UNAVAILABLE as error:
                self.breaker.failed(error)
            else:
                self.breaker.succeeded()
                return result
        fallback: BaseCache = caches[self._fallback_alias]
        return getattr(fallback, name)(*args)

    def _redis_only(self, call: Callable[[], T]) -> T | None:
        if not self.breaker.admits():
            return None
        try:
            result = self._on_redis(call)
        except UNAVAILABLE as error:
            self.breaker.failed(error)
            return None
        self.breaker.succeeded()
        return result

    def _on_redis(self, call: Callable[[], T]) -> T:
        """``call`` on Redis; first, if this process may have missed a write since it last
        used Redis (a failure, or its first use), raise the continuity counter, so that no copy
        from before is read again by any process."""
        if self.breaker.continuity is None:
            made = self.make_and_validate_key(CONTINUITY_KEY)
            self.breaker.continuity = int(self._client().incr(made))
        return call()
