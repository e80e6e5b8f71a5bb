"""The database cache (config/cache.py): one upsert per write, ``add`` atomic, expiry kept."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.concurrency import at_once
from twofold.config import cache as cache_module
from twofold.config.cache import DatabaseCache


@pytest.fixture
def cache(db: None) -> DatabaseCache:
    backend = caches["default"]
    if not isinstance(backend, DatabaseCache):
        pytest.skip("the services pass uses Redis")
    return backend


def test_set_get_and_overwrite(cache: DatabaseCache) -> None:
    cache.set("k", {"a": 1}, 60)
    cache.set("k", [1, 2], 60)

    assert cache.get("k") == [1, 2]


def test_add_only_when_absent_or_expired(cache: DatabaseCache) -> None:
    assert cache.add("k", "first", 60) is True
    assert cache.add("k", "second", 60) is False
    assert cache.get("k") == "first"

    cache.set("gone", "old", 0)  # stored already expired
    assert cache.add("gone", "new", 60) is True
    assert cache.get("gone") == "new"


def test_a_write_is_one_statement(cache: DatabaseCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "CULL_EVERY", 10**9)  # no cull in this test

    with CaptureQueriesContext(connection) as writes:
        cache.set("k", 1, 60)
        cache.add("other", 1, 60)

    assert len(writes.captured_queries) == 2
    assert "COUNT(" not in " ".join(q["sql"] for q in writes.captured_queries)


def test_expired_entries_are_culled_on_some_writes(
    cache: DatabaseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.set("stale", 1, 0)  # stored already expired
    monkeypatch.setattr(cache_module, "CULL_EVERY", 1)  # cull on every write

    cache.set("fresh", 1, 60)

    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM twofold_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert not any(key.endswith(":stale") for key in keys)
    assert any(key.endswith(":fresh") for key in keys)


@pytest.mark.django_db(transaction=True)
def test_add_by_20_threads_at_once_succeeds_exactly_once() -> None:
    if not isinstance(caches["default"], DatabaseCache):
        pytest.skip("the services pass uses Redis")
    outcomes = at_once(lambda: caches["default"].add("once", 1, 60))

    assert sorted(outcomes) == [False] * 19 + [True]
