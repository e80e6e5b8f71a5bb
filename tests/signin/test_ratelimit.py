"""allauth's failed sign-in limit on the database cache, without its lock (signin/ratelimit.py):
the same limit, atomic across processes, in fewer statements."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.concurrency import at_once
from twofold.config.cache import DatabaseCache
from twofold.signin import ratelimit

PER_KEY = 5  # allauth's default: 5 failed sign-ins per email address in 5 minutes
PER_ADDRESS = 10  # and 10 per client address a minute


def _backend() -> DatabaseCache:
    backend = caches["default"]
    if not isinstance(backend, DatabaseCache):
        pytest.skip("the services pass uses Redis: allauth's own rate limits")
    return backend


@pytest.fixture
def backend(db: None) -> DatabaseCache:
    return _backend()


def guess() -> HttpRequest:
    return RequestFactory().post("/accounts/login/")


def hits(backend: DatabaseCache, rate: str, key: str) -> list[float]:
    parsed = allauth_ratelimit.parse_rate(rate)
    cache_key = allauth_ratelimit.get_cache_key(
        guess(), app=ratelimit.APP, action=ratelimit.ACTION, rate=parsed, key=key
    )
    return list(backend.get(cache_key) or [])


def test_the_limit_per_email_holds(backend: DatabaseCache) -> None:
    outcomes = [ratelimit.consume_login_failed(guess(), "bob", backend) for _ in range(6)]

    assert all(outcomes[:PER_KEY])
    assert outcomes[PER_KEY] is None


def test_a_right_password_gives_back_only_its_own_hit(backend: DatabaseCache) -> None:
    ratelimit.consume_login_failed(guess(), "bob", backend)
    usage = ratelimit.consume_login_failed(guess(), "bob", backend)
    assert usage is not None

    usage.rollback()

    assert len(hits(backend, "5/300s/key", "bob")) == 1
    assert len(hits(backend, "10/m/ip", "bob")) == 1


def test_allauth_reads_and_counts_the_same_entries(backend: DatabaseCache) -> None:
    for _ in range(PER_KEY):
        assert ratelimit.consume_login_failed(guess(), "bob", backend)

    refused = allauth_ratelimit.consume(
        guess(), app=ratelimit.APP, action=ratelimit.ACTION, key="bob"
    )

    assert refused is None


def test_a_held_allauth_lock_is_waited_for_then_the_guess_refused(
    backend: DatabaseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(allauth_ratelimit, "CACHE_LOCK_WAIT_TIMEOUT", 0.05)
    rate = allauth_ratelimit.parse_rate("10/m/ip")
    key = allauth_ratelimit.get_cache_key(
        guess(), app=ratelimit.APP, action=ratelimit.ACTION, rate=rate
    )

    with allauth_ratelimit.cache_lock(key) as locked:
        assert locked
        assert ratelimit.consume_login_failed(guess(), "bob", backend) is None


def test_reserving_and_giving_back_cost_three_statements_each(backend: DatabaseCache) -> None:
    ratelimit.consume_login_failed(guess(), "bob", backend)  # entries exist: updates

    with CaptureQueriesContext(connection) as reserving:
        usage = ratelimit.consume_login_failed(guess(), "bob", backend)
    assert usage is not None
    with CaptureQueriesContext(connection) as giving_back:
        usage.rollback()

    assert len(reserving.captured_queries) == 3  # both rates read at once, each written
    assert len(giving_back.captured_queries) == 3


@pytest.fixture
def parallel() -> Iterator[None]:
    """Threads need committed data (a transactional test); the cache table is not flushed."""
    yield
    caches["default"].clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("parallel")
def test_asvs_6_3_1_20_parallel_guesses_stay_within_the_limit() -> None:
    backend = _backend()
    email = f"{secrets.token_hex(4)}@acme.test"
    outcomes = at_once(lambda: ratelimit.consume_login_failed(guess(), email, backend) is not None)

    assert outcomes.count(True) == PER_KEY
    assert outcomes.count(False) == 20 - PER_KEY
    assert len(hits(backend, "5/300s/key", email)) == PER_KEY
    assert len(hits(backend, "10/m/ip", email)) == PER_ADDRESS
