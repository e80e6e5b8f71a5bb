"""One call made by many threads released at the same moment, as concurrent requests would make it.

Used by the tests that prove a single-use or limited thing stays so under a race (backup codes,
SMS tries, the cache's add, the rate limits, SAML assertion ids). They need committed data:
mark them ``django_db(transaction=True)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.db import connections

T = TypeVar("T")


def close_cache_connections() -> None:
    """Each thread has its own cache client; Redis's pools stay open until disconnected."""
    client = caches["default"].__dict__.get("_cache")  # this thread's client, when Redis
    for pool in getattr(client, "_pools", {}).values():
        pool.disconnect()


def at_once(call: Callable[[], T], times: int = 20) -> list[T | Exception]:
    """What ``call`` returned (or the exception it raised) in each of ``times`` threads that all
    start it together; each thread closes its database and cache connections after."""
    barrier = threading.Barrier(times)
    outcomes: list[T | Exception] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome: T | Exception = call()
        except Exception as error:
            outcome = error
        finally:
            connections.close_all()
            close_cache_connections()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if len(outcomes) != times:
        raise AssertionError(f"{times - len(outcomes)} of {times} threads did not finish")
    return outcomes
