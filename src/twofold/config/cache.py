"""The database cache of a single-machine install (SQLite), with one statement per write.

Django's ``DatabaseCache`` spends five statements on every ``set``/``add``: ``COUNT(*)`` of the
whole table (a full scan on SQLite, growing with the number of entries), a ``SELECT`` of the key,
then an ``INSERT`` or ``UPDATE``, inside a savepoint. allauth's rate limits write several entries
per sign-in, so that cost was a large part of a sign-in that should cost one password hash
(docs/performance.md). Here a write is one upsert (``INSERT … ON CONFLICT … DO UPDATE``, SQLite ≥
3.24 and PostgreSQL), and ``add`` stays atomic: the update applies only over an expired entry, and
the affected row count says whether the value was added. Expired entries are deleted on about one
write in :data:`CULL_EVERY`, instead of counting the table on every write.

:meth:`DatabaseCache.read_versioned` and :meth:`DatabaseCache.write_if_unchanged` make a
read-modify-write atomic across processes in two statements, without a lock entry
(signin/ratelimit.py: allauth's failed sign-in limit).
"""

from __future__ import annotations

import base64
import pickle
import secrets
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.timezone import now as tz_now

CULL_EVERY = 256

# allauth's ``cache_lock`` holds ``<key>:lock`` while it reads and writes ``<key>``.
LOCK_SUFFIX = ":lock"


class DatabaseCache(DjangoDatabaseCache):
    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        if mode == "touch":
            return bool(super()._base_set(mode, key, value, timeout))  # type: ignore[misc]
        connection = self._writer()
        table, key_column, value_column, expires_column = self._names(connection)
        now = tz_now().replace(microsecond=0)
        adapt = connection.ops.adapt_datetimefield_value
        # Only quoted identifiers of our own table are formatted in; values are parameters.
        sql = (
            f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{value_column} = EXCLUDED.{value_column}, "
            f"{expires_column} = EXCLUDED.{expires_column}"
        )
        params = [key, self._pickled(value), adapt(self._expiry(timeout))]
        if mode == "add":  # only over an entry that has expired: atomic in one statement
            sql += f" WHERE {table}.{expires_column} < %s"
            params.append(adapt(now))
        with connection.cursor() as cursor:
            if secrets.randbelow(CULL_EVERY) == 0:
                cull = f"DELETE FROM {table} WHERE {expires_column} < %s"  # noqa: S608
                cursor.execute(cull, [adapt(now)])
            cursor.execute(sql, params)
            return bool(cursor.rowcount)

    def read_versioned(self, keys: list[str]) -> dict[str, tuple[Any, str | None]]:
        """Each key's value and version ((None, None) when absent or expired), in one statement.

        Pass a version to :meth:`write_if_unchanged`: the write then applies only if no one
        wrote that key in between.
        """
        made = {self.make_and_validate_key(key): key for key in keys}
        connection = self._writer()  # the database the write will compare against
        table, key_column, value_column, expires_column = self._names(connection)
        marks = ", ".join(["%s"] * len(made))
        sql = (
            f"SELECT {key_column}, {value_column}, {expires_column} FROM {table} "  # noqa: S608
            f"WHERE {key_column} IN ({marks})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, list(made))
            rows = cursor.fetchall()
        found: dict[str, tuple[Any, str | None]] = dict.fromkeys(keys, (None, None))
        now = tz_now()
        for made_key, value, expires in rows:
            if self._converted(connection, expires) >= now:
                stored = connection.ops.process_clob(value)
                value = pickle.loads(base64.b64decode(stored.encode()))  # noqa: S301
                found[made[made_key]] = (value, stored)
        return found

    def write_if_unchanged(self, key: str, version: str | None, value: Any, timeout: Any) -> bool:
        """Store ``value`` only if ``key`` still holds ``version`` (absent or expired for None),
        and allauth's ``cache_lock`` does not hold it; one statement, so atomic across processes
        (compare-and-set). False: someone wrote in between; read again and retry.
        """
        made = self.make_and_validate_key(key)
        connection = self._writer()
        table, key_column, value_column, expires_column = self._names(connection)
        adapt = connection.ops.adapt_datetimefield_value
        now = adapt(tz_now())
        unlocked = (
            f"NOT EXISTS (SELECT 1 FROM {table} AS held WHERE held.{key_column} = %s "  # noqa: S608
            f"AND held.{expires_column} >= %s)"
        )
        new = [self._pickled(value), adapt(self._expiry(timeout))]
        lock = [made + LOCK_SUFFIX, now]
        if version is None:  # absent or expired: insert, or replace the expired entry
            sql = (
                f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "
                f"SELECT %s, %s, %s WHERE {unlocked} ON CONFLICT ({key_column}) DO UPDATE SET "
                f"{value_column} = EXCLUDED.{value_column}, "
                f"{expires_column} = EXCLUDED.{expires_column} "
                f"WHERE {table}.{expires_column} < %s"
            )
            params = [made, *new, *lock, now]
        else:
            sql = (
                f"UPDATE {table} SET {value_column} = %s, {expires_column} = %s "  # noqa: S608
                f"WHERE {key_column} = %s AND {value_column} = %s AND {unlocked}"
            )
            params = [*new, made, version, *lock]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount == 1

    def _writer(self) -> BaseDatabaseWrapper:
        return connections[router.db_for_write(self.cache_model_class)]

    def _names(self, connection: BaseDatabaseWrapper) -> tuple[str, str, str, str]:
        quote = connection.ops.quote_name
        table: str = self._table  # type: ignore[attr-defined]
        return quote(table), quote("cache_key"), quote("value"), quote("expires")

    def _pickled(self, value: Any) -> str:
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    @staticmethod
    def _converted(connection: BaseDatabaseWrapper, expires: Any) -> datetime:
        """``expires`` as Django's own ``get`` reads it (naive or aware as the database says)."""
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression)
        for converter in converters + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires

    def _expiry(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return datetime.max.replace(microsecond=0)
        return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=0)
