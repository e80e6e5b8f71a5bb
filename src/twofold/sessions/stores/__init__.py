"""Django's database session stores, without the round trips a sign-in does not need (issue 7).

The engines are ``twofold.sessions.stores.db`` and ``.cached_db``; they keep Django's
stores' data, expiry and cache behaviour, and differ in three ways:

- A new session key is not checked with ``exists()`` first: the INSERT is the check. Django's
  ``create()`` already inserts with ``must_create``, and a taken key raises IntegrityError ->
  CreateError -> another random key, so the key is unique either way (ASVS 7.2.4: a new id at
  sign-in, by ``cycle_key``). The pre-check cost a query (and a cache read) at every sign-in.
- The old session is removed by one DELETE, not read and then deleted.
- One INSERT or UPDATE in autocommit is atomic by itself: the transaction Django opens around it
  (BEGIN, COMMIT) is kept only inside an outer transaction, where its savepoint is what lets the
  outer one go on after a taken key.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils.crypto import get_random_string

from twofold.config.redis_cache import FailoverRedisCache

__all__ = ["CachedDatabaseStore", "DatabaseStore"]


class DatabaseStore(db.SessionStore):
    """``django.contrib.sessions.backends.db``, with the round trips above removed."""

    @property
    def key_salt(self) -> str:
        # Django's stores' salt (from their class name): their sessions and ours read each other,
        # so switching engines signs no one out.
        return "django.contrib.sessions.SessionStore"

    def create(self) -> None:
        while True:
            # 32 characters from 36, as Django's: the INSERT below refuses a taken one.
            self._session_key = get_random_string(32, VALID_KEY_CHARS)
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # the key was taken: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        """As Django's: ``must_create`` raises CreateError for a taken key, and saving a session
        ended meanwhile raises UpdateError (SessionMiddleware answers SessionInterrupted)."""
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        # A refused INSERT must not break an outer transaction (PostgreSQL): a savepoint there;
        # alone, one statement in autocommit is its own transaction.
        outer = connections[using].in_atomic_block
        try:
            with transaction.atomic(using=using) if outer else nullcontext():
                obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError as error:
            if must_create:
                raise CreateError from error
            raise
        except DatabaseError as error:
            if not must_create:
                raise UpdateError from error  # e.g. the session was ended meanwhile
            raise
        return None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # By primary key: one DELETE while no signal listens to a Session's deletion, outside any
        # transaction (a queryset's delete() opens one). A key already gone deletes nothing.
        self.model(session_key=session_key).delete()


# cached_db's methods call super(), which this order makes DatabaseStore: the cache is written
# after the row is created or saved, and dropped with it, as in Django's cached_db.
class CachedDatabaseStore(cached_db.SessionStore, DatabaseStore):
    """``django.contrib.sessions.backends.cached_db``, with the round trips above removed.

    On Redis (``FailoverRedisCache``) the copy is only an accelerator: while Redis cannot be used
    the session is read from and written to the database alone, never a 500 (Django's store wrote
    the copy back to Redis without catching the error), and a copy Redis kept from before a gap
    is never read (config/redis_cache.py: continuity), so a session ended meanwhile stays ended.
    """

    def load(self) -> dict[str, Any]:
        redis = _redis(self._cache)  # type: ignore[attr-defined]
        if redis is None:
            return dict(super().load())
        key = self.cache_key
        found = redis.get_current([key])
        if found is not None and key in found:
            return dict(found[key])
        row = self._get_session_from_db()  # type: ignore[attr-defined]
        if not row:
            return {}
        data = dict(self.decode(row.session_data))
        if found is not None:  # Redis answered: keep a copy for the next request
            redis.set_current(key, data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def save(self, must_create: bool = False) -> None:
        redis = _redis(self._cache)  # type: ignore[attr-defined]
        if redis is None:
            return super().save(must_create)
        if self.session_key is None:
            return self.create()  # which saves with must_create, here
        DatabaseStore.save(self, must_create)  # the row first: the database holds the session
        redis.set_current(self.cache_key, self._session, self.get_expiry_age())  # type: ignore[attr-defined]
        return None

    def delete(self, session_key: str | None = None) -> None:
        redis = _redis(self._cache)  # type: ignore[attr-defined]
        if redis is None:
            return super().delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return None
            session_key = self.session_key
        DatabaseStore.delete(self, session_key)
        redis.delete_current(self.cache_key_prefix + session_key)
        return None

    def exists(self, session_key: str) -> bool:
        """By the row: a copy in Redis may be from before a gap."""
        if _redis(self._cache) is None:  # type: ignore[attr-defined]
            return bool(super().exists(session_key))
        return bool(DatabaseStore.exists(self, session_key))


def _redis(cache: object) -> FailoverRedisCache | None:
    return cache if isinstance(cache, FailoverRedisCache) else None
