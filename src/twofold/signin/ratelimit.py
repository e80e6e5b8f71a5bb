"""allauth's failed sign-in limit (``login_failed``) on the database cache, without its lock
entry: three statements to reserve and three to give back instead of eight each (issue 7).

allauth keeps each rate as a list of hit times in the cache and makes its read-modify-write
atomic with a lock entry (``cache_lock``: add, read, write, delete). On the database cache the
write itself can be conditional: it applies only if the entry still holds what was read
(``DatabaseCache.write_if_unchanged``, compare-and-set), so parallel guesses still cannot pass
the limit. Both rates (per client address, per email) are read in one statement. A write that
lost the race reads again; as with allauth's lock, giving up after ``CACHE_LOCK_WAIT_TIMEOUT``
refuses the guess, and a give-back that cannot be made only makes the limit stricter. The rates,
keys, stored values and semantics are allauth's own: reserved before the password hash, given
back after a right password (``DefaultAccountAdapter.authenticate``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allauth.core.internal import ratelimit
from django.http import HttpRequest

from twofold.config.cache import DatabaseCache

APP = "allauth.account"
ACTION = "login_failed"

# A new hit list from the current one; None: nothing to write.
_Change = Callable[[list[float]], "list[float] | None"]
# What the cache held for a key: the hit list and its version (None: absent or expired).
_Read = tuple[list[float], "str | None"]


class _Full(Exception):
    """The rate holds as many hits as it allows."""


@dataclass
class Reservation(ratelimit.SingleRateLimitUsage):
    """One hit recorded in one rate (allauth's usage); given back without allauth's lock."""

    backend: DatabaseCache

    def give_back(self, read: _Read | None) -> None:
        _update(self.backend, self.cache_key, self.cache_duration, self._without, read)

    def rollback(self) -> None:
        self.give_back(None)

    def _without(self, history: list[float]) -> list[float] | None:
        if self.timestamp not in history:
            return None  # nothing to give back (expired or cleared): no write
        return [ts for ts in history if ts != self.timestamp]


@dataclass
class Reservations(ratelimit.RateLimitUsage):
    """allauth's ``RateLimitUsage``, whose rollback reads every rate in one statement."""

    usage: list[ratelimit.SingleRateLimitUsage] = field(default_factory=list)

    def rollback(self) -> None:
        reservations = [u for u in self.usage if isinstance(u, Reservation)]
        if not reservations:
            return
        reads = _read_all(reservations[0].backend, [r.cache_key for r in reservations])
        for reservation in reservations:
            reservation.give_back(reads[reservation.cache_key])


def consume_login_failed(
    request: HttpRequest, key: str, backend: DatabaseCache
) -> ratelimit.RateLimitUsage | None:
    """allauth's ``ratelimit.consume(request, app=…, action="login_failed", key=key)``: one hit
    in each configured rate, in order; None (refused) at the first rate that is full."""
    usage = Reservations()
    if request.method == "GET":
        return usage
    rates = ratelimit.get_rates(app=APP, action=ACTION)
    keys = [
        ratelimit.get_cache_key(request, app=APP, action=ACTION, rate=r, key=key) for r in rates
    ]
    reads = _read_all(backend, keys) if keys else {}
    for rate, cache_key in zip(rates, keys, strict=True):
        reserved = _reserve(backend, rate, cache_key, reads[cache_key])
        if reserved is None:
            return None
        usage.usage.append(reserved)
    return usage


def _reserve(
    backend: DatabaseCache, rate: ratelimit.Rate, cache_key: str, read: _Read
) -> Reservation | None:
    hit = Reservation(cache_key, rate.duration, timestamp=0.0, backend=backend)

    def record(history: list[float]) -> list[float]:
        hit.timestamp = time.time()
        allowed, history = ratelimit.apply_rate(history, hit.timestamp, rate)
        if not allowed:
            raise _Full
        return history

    try:
        return hit if _update(backend, cache_key, rate.duration, record, read) else None
    except _Full:
        return None


def _read_all(backend: DatabaseCache, keys: list[str]) -> dict[str, _Read]:
    return {k: (list(v or []), version) for k, (v, version) in backend.read_versioned(keys).items()}


def _update(
    backend: DatabaseCache, cache_key: str, duration: float, change: _Change, read: _Read | None
) -> bool:
    """Apply ``change`` to the hit list at ``cache_key`` atomically, starting from ``read`` if
    given; False if it could not be written in time (contention)."""
    deadline = time.monotonic() + ratelimit.CACHE_LOCK_WAIT_TIMEOUT
    while True:
        history, version = read if read is not None else _read_all(backend, [cache_key])[cache_key]
        changed = change(list(history))
        if changed is None:
            return True
        if backend.write_if_unchanged(cache_key, version, changed, duration):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        read = None
        # Another write won (or allauth's lock is held): no doubling, the winner is already done.
        time.sleep(min(ratelimit.CACHE_LOCK_RETRY_INTERVAL, remaining))
