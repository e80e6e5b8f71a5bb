"""The database cache of a single-machine install (SQLite), with one statement per write.

Django's ``DatabaseCache`` spends five statements on every ``set``/``add``: ``COUNT(*)`` of the
whole table (a full scan on SQLite, growing with the number of entries), a ``SELECT`` of the key,
then an ``INSERT`` or ``UPDATE``, inside a savepoint. allauth's rate limits write several entries
per sign-in, so that cost was a large part of a sign-in that should cost one password hash
(docs/performance.md). Here a write is one upsert (``INSERT … ON CONFLICT … DO UPDATE``, SQLite ≥
3.24 and PostgreSQL), and ``add`` stays atomic: the update applies only over an expired entry, and
the affected row count says whether the value was added. Expired entries are deleted on about one
write in :data:`CULL_EVERY`, instead of counting the table on every write.
"""

from __future__ import annotations

import base64
import pickle
import secrets
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.utils.timezone import now as tz_now

CULL_EVERY = 256


class DatabaseCache(DjangoDatabaseCache):
    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        if mode == "touch":
            return bool(super()._base_set(mode, key, value, timeout))  # type: ignore[misc]
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, key_column = quote(self._table), quote("cache_key")  # type: ignore[attr-defined]
        value_column, expires_column = quote("value"), quote("expires")
        now = tz_now().replace(microsecond=0)
        adapt = connection.ops.adapt_datetimefield_value
        pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        # Only quoted identifiers of our own table are formatted in; values are parameters.
        sql = (
            f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT ({key_column}) DO UPDATE SET "
            f"{value_column} = EXCLUDED.{value_column}, "
            f"{expires_column} = EXCLUDED.{expires_column}"
        )
        params = [key, pickled, adapt(self._expiry(timeout))]
        if mode == "add":  # only over an entry that has expired: atomic in one statement
            sql += f" WHERE {table}.{expires_column} < %s"
            params.append(adapt(now))
        with connection.cursor() as cursor:
            if secrets.randbelow(CULL_EVERY) == 0:
                cull = f"DELETE FROM {table} WHERE {expires_column} < %s"  # noqa: S608
                cursor.execute(cull, [adapt(now)])
            cursor.execute(sql, params)
            return bool(cursor.rowcount)

    def _expiry(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return datetime.max.replace(microsecond=0)
        return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=0)
