"""The database's schema against the code's migrations (config/schema.py): ``twofold migrate``
takes a lock, so two at once both succeed; ``twofold serve`` and ``/readyz`` refuse a database
with unapplied migrations. Each test gets a database of its own, fresh: a SQLite file, or with
``python -m tests.services`` a new PostgreSQL database (dropped after)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from twofold.config import schema

SERVICES = os.environ.get("TWOFOLD_TEST_BACKEND") == "services"
PROBE = (
    "import json, django; django.setup(); from django.test import Client; "
    "r = Client().get('/readyz'); print(json.dumps([r.status_code, r.json()]))"
)


class FreshDatabase:
    """A database with no table yet, and the environment a ``twofold`` process needs for it."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
        self.environ.pop("DJANGO_SETTINGS_MODULE", None)
        self.environ["TWOFOLD_DATA_DIR"] = str(data_dir)
        self.environ["PYTHONPATH"] = os.pathsep.join(sys.path)
        if database_url is not None:
            self.environ["TWOFOLD_DATABASE_URL"] = database_url

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "twofold.cli", *args],
            env=self.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def twofold(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "twofold.cli", *args],
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def readyz(self) -> tuple[int, dict[str, object]]:
        environ = {**self.environ, "DJANGO_SETTINGS_MODULE": "twofold.config.settings"}
        out = subprocess.run(
            [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, check=True
        )
        status, body = json.loads(out.stdout.strip().splitlines()[-1])
        return status, body


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[FreshDatabase]:
    if not SERVICES:
        yield FreshDatabase(tmp_path, None)
        return
    import psycopg

    from tests.services import POSTGRES_URL

    name = f"twofold_fresh_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield FreshDatabase(tmp_path, f"{POSTGRES_URL}/{name}")
    finally:
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_the_test_database_has_every_migration_applied() -> None:
    assert schema.pending_migrations(connection) == []


def test_two_migrates_at_once_on_a_fresh_database_both_succeed(
    fresh_database: FreshDatabase,
) -> None:
    """Without the lock the second one created tables the first had just created and failed
    (PostgreSQL: a duplicate key in ``pg_type``; SQLite: ``table already exists``)."""
    first = fresh_database.start("migrate", "--verbosity", "0")
    second = fresh_database.start("migrate", "--verbosity", "0")
    outcomes = [process.communicate(timeout=300) for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outcomes
    assert fresh_database.readyz()[0] == 200


def test_readyz_is_503_on_a_database_without_twofolds_tables(
    fresh_database: FreshDatabase,
) -> None:
    status, body = fresh_database.readyz()

    assert status == 503
    assert body["status"] == "unavailable"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert (checks["database"], checks["migrations"]) == (True, False)
    assert "twofold migrate" in str(body["reasons"])


def test_readyz_is_200_once_migrated(fresh_database: FreshDatabase) -> None:
    assert fresh_database.twofold("migrate", "--verbosity", "0").returncode == 0

    status, body = fresh_database.readyz()

    assert status == 200
    assert body["checks"]["migrations"] is True  # type: ignore[index]


def test_serve_refuses_a_database_with_unapplied_migrations_in_one_line(
    fresh_database: FreshDatabase,
) -> None:
    result = fresh_database.twofold("serve")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not applied" in lines[0]
    assert "twofold migrate" in lines[0]
    assert "serves on" not in result.stdout  # gunicorn was never started


def test_the_migration_lock_is_held_by_one_process_at_a_time(
    fresh_database: FreshDatabase,
) -> None:
    """The lock itself, apart from what migrate does under it: the second waits."""
    hold = (
        "import time, django; django.setup(); from django.db import connection; "
        "from twofold.config import schema\n"
        "with schema.migration_lock(connection):\n"
        "    print('held', time.monotonic(), flush=True); time.sleep(2)\n"
        "print('released', time.monotonic(), flush=True)\n"
    )
    environ = {**fresh_database.environ, "DJANGO_SETTINGS_MODULE": "twofold.config.settings"}
    command = [sys.executable, "-c", hold]
    runs = [
        subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60)[0].split() for run in runs]

    spans = sorted((float(out[1]), float(out[3])) for out in outputs)
    assert spans[1][0] >= spans[0][1] - 0.05  # the second held it only once the first let go
