"""Django settings derived from the typed settings: cookies, cache, database."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore


def test_cache_is_shared_between_workers_never_per_process():
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend in (
        "twofold.config.cache.DatabaseCache",
        "twofold.config.redis_cache.FailoverRedisCache",  # Django's RedisCache, shared too
    )


def test_sessions_are_server_side():
    # Django's database stores, or Twofold's subclasses of them (signin/session_store).
    assert settings.SESSION_ENGINE in (
        "twofold.sessions.stores.db",
        "twofold.sessions.stores.cached_db",
    )
    assert issubclass(import_module(settings.SESSION_ENGINE).SessionStore, SessionStore)


def test_cookies_are_httponly_and_samesite_lax():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"


def test_sqlite_uses_wal_and_immediate_transactions():
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        return
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_sqlite_database_is_in_wal_mode(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
