"""A served Twofold runs its clean-ups on its own: ``twofold serve`` (gunicorn, two workers,
SQLite) with the scheduler on by default, and the test moving a job's due time into the past."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import TwofoldServer, serve
from tests.peers.harness import free_port

T = TypeVar("T")
JOBS, PURGE = "twofold_scheduler_scheduledjob", "name = 'purge-devices'"
PATIENCE = 60.0  # seconds: a deadline for a slow machine, not a measure of speed

EXPIRED_DEVICE = """
import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twofold.config.settings")
import django; django.setup()
from datetime import timedelta
from twofold import clock
from twofold.signin.models import RememberedDevice
from twofold.users.models import User
now = clock.now()
RememberedDevice.objects.create(
    user=User.objects.get(), token_hash="0" * 64, factors="", device="Firefox on Linux",
    created_at=now - timedelta(days=31), expires_at=now - timedelta(days=1),
)
"""


def query(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database, timeout=20) as connection:
        return connection.execute(sql).fetchall()


def eventually(server: TwofoldServer, what: str, probe: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + PATIENCE
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {PATIENCE:.0f} s:\n{server.log_tail()}")
        time.sleep(0.2)
    return found


def test_a_served_twofold_runs_a_due_job_on_its_own(tmp_path: Path) -> None:
    with serve(tmp_path, free_port()) as server:
        database = server.data_dir / "twofold.sqlite3"

        def finished() -> object | None:
            rows = query(
                database,
                f"SELECT last_finished_at FROM {JOBS} WHERE {PURGE} AND last_outcome = 'ok'",
            )
            return rows[0][0] if rows else None

        first = eventually(server, "no first run of purge-devices at start-up", finished)
        server.cli(
            "create-account",
            "--email",
            "ada@example.test",
            "--name",
            "Acme",
            "--password-stdin",
            input=f"{PASSWORD}\n",
        )
        subprocess.run([sys.executable, "-c", EXPIRED_DEVICE], env=server.environ, check=True)
        # A day later, as far as the job knows: it is due again.
        query(database, f"UPDATE {JOBS} SET due_at = '2000-01-01 00:00:00' WHERE {PURGE}")

        eventually(server, "purge-devices did not run again", lambda: (finished() != first) or None)
        assert query(database, "SELECT COUNT(*) FROM signin_remembereddevice") == [(0,)]
        assert "twofold.scheduler" in server.log.read_text()
        assert "purge-devices: ok, 1 affected" in server.log.read_text()
