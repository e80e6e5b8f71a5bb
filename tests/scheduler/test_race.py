"""Runners racing for a due job, each thread with its own database connection as each gunicorn
worker of each instance has: the job runs once (SQLite here; PostgreSQL under
``python -m tests.services``)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from tests.concurrency import at_once
from twofold import clock
from twofold.scheduler import claims
from twofold.scheduler.jobs import DAY, Job
from twofold.scheduler.models import ScheduledJob
from twofold.scheduler.runner import run_due, runner_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_runners_racing_for_a_job_never_seen_run_it_exactly_once() -> None:
    ran: list[datetime] = []
    lock = threading.Lock()

    def count(now: datetime) -> int:
        with lock:
            ran.append(now)
        return 0

    daily = Job("purge-devices", DAY, count)
    outcomes = at_once(lambda: run_due(runner_id(), jobs=[daily]))

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len(ran) == 1
    assert sum(len(o) for o in outcomes if isinstance(o, list)) == 1
    assert ScheduledJob.objects.get().last_outcome == "ok"


def test_twenty_runners_claiming_a_due_job_at_once_get_one_claim() -> None:
    now = clock.now()
    claims.due(["deliver-logouts"], now=now)

    outcomes = at_once(lambda: claims.claim("deliver-logouts", runner_id(), now=now))

    assert sorted(map(repr, outcomes)) == ["False"] * 19 + ["True"]
