"""The database's schema against the code's migrations: which are not applied yet, and the lock
that lets one ``twofold migrate`` at a time apply them.

A process serving a database without Twofold's tables answers every request with a 500; ``twofold
serve`` refuses to start on one and ``/readyz`` reports it (``pending_migrations``). Two ``twofold
migrate`` at once on a fresh database both planned every migration and the second failed on a
table the first had just created (``table already exists``): ``migration_lock`` makes the second
wait, then find nothing left to do.
"""

from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# pg_advisory_lock's key: any constant shared by every Twofold process ("twofold" in ASCII).
ADVISORY_LOCK_KEY = 0x74776F666F6C64

Node = tuple[str, str]  # (app label, migration name)


def pending_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """The code's migrations the database has not recorded as applied, as ``app.name``, in
    order; [] when it is up to date. One query (the applied list); the code's list is read once
    per process, as the code cannot change under it."""
    applied = set(MigrationRecorder(connection).applied_migrations())
    missing = []
    for node, replaces in _migrations():
        # A squashed migration counts as applied when every migration it replaces is.
        if node not in applied and not (replaces and set(replaces) <= applied):
            missing.append(f"{node[0]}.{node[1]}")
    return missing


def pending_message(missing: list[str]) -> str:
    """One line for the operator: how many, the first, and what to run."""
    count = len(missing)
    noun = "migration is" if count == 1 else "migrations are"
    return f"{count} database {noun} not applied ({missing[0]}, …): run `twofold migrate` first."


@functools.cache
def _migrations() -> tuple[tuple[Node, tuple[Node, ...]], ...]:
    """Every migration of the installed apps' code, with what it replaces, in plan order."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan: list[Node] = []
    for leaf in loader.graph.leaf_nodes():
        plan.extend(n for n in loader.graph.forwards_plan(leaf) if n not in plan)
    return tuple((node, tuple(loader.graph.nodes[node].replaces or ())) for node in plan)


@contextmanager
def migration_lock(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Held by one process at a time for each database: PostgreSQL's advisory lock (kept by the
    server for this session, released if the process dies), or on SQLite a ``flock`` on a file
    beside the database (released by the kernel if the process dies)."""
    if connection.vendor == "postgresql":
        with _advisory_lock(connection):
            yield
    elif connection.vendor == "sqlite":
        with _file_lock(Path(str(connection.settings_dict["NAME"]) + ".migrate-lock")):
            yield
    else:
        yield  # no lock for other databases: Twofold supports these two


@contextmanager
def _advisory_lock(connection: BaseDatabaseWrapper) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for the process that holds it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
