"""Running the due jobs: claim each one (scheduler/claims.py), run it, record the run.

A job's failure is logged and counted, and the other jobs run all the same; a failed job is
tried again after ``RETRY_AFTER_ERROR`` (or its own interval, if shorter) rather than a day
later. While a job runs, a companion thread renews its lease, so that a long run (many domains
to look up, a big purge) is never taken for a dead one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections

from twofold import clock, metrics
from twofold.scheduler import claims
from twofold.scheduler.jobs import JOBS, Job

log = logging.getLogger("twofold.scheduler")

RETRY_AFTER_ERROR = timedelta(minutes=15)
_METRIC_OUTCOMES = {"ok": "success", "error": "failure"}  # the metric's words (metrics.py)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Run:
    job: str
    outcome: str  # "ok" or "error"
    affected: int  # rows deleted or changed (0 after an error)
    seconds: float
    deleted: int = 0  # of those, the rows deleted


def runner_id() -> str:
    """Names the runner in the job's row: which machine and process holds a run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_due(
    runner: str,
    *,
    now: Clock = clock.now,
    jobs: Sequence[Job] = JOBS,
    stopping: Callable[[], bool] = lambda: False,
) -> list[Run]:
    """Run every due job this runner can claim, one after the other; none once ``stopping``."""
    by_name = {job.name: job for job in jobs}
    runs = []
    for name in claims.due(by_name, now=now()):
        if stopping():
            break
        if claims.claim(name, runner, now=now()):
            runs.append(_run(by_name[name], runner, now))
    return runs


def _run(job: Job, runner: str, now: Clock) -> Run:
    started, began = now(), time.monotonic()
    affected, failure = 0, None
    with _renewing(job.name, runner, now):
        try:
            affected = job.run(started)
        except Exception as error:  # one job's failure must not stop the others
            failure = error
    outcome = "ok" if failure is None else "error"
    wait = job.every if failure is None else min(job.every, RETRY_AFTER_ERROR)
    claims.release(job.name, runner, now=now(), next_due=started + wait, outcome=outcome)
    deleted = affected if job.deletes else 0
    run = Run(job.name, outcome, affected, time.monotonic() - began, deleted)
    record_run(run, failure)
    return run


def record_run(run: Run, failure: BaseException | None = None) -> None:
    """The one place a run is recorded: one log line (logger ``twofold.scheduler``) and the
    clean-up metric (``twofold_cleanup_runs``, ``twofold_cleanup_deleted``)."""
    seconds = round(run.seconds, 3)
    fields = {"job": run.job, "outcome": run.outcome, "affected": run.affected, "seconds": seconds}
    line = f"{run.job}: {run.outcome}, {run.affected} affected in {run.seconds:.3f} s"
    if failure is None:
        log.info(line, extra=fields)
    else:
        log.error(line, extra=fields, exc_info=failure)
    metrics.cleanup_ran(run.job, _METRIC_OUTCOMES[run.outcome], run.deleted)


@contextmanager
def _renewing(name: str, runner: str, now: Clock) -> Iterator[None]:
    """Renew the claim every third of the lease until the block ends."""
    done = threading.Event()

    def renew() -> None:
        try:
            while not done.wait(claims.LEASE.total_seconds() / 3):
                if not claims.renew(name, runner, now=now()):
                    log.warning("%s: the claim lapsed and another runner took the job over", name)
                    return
        except Exception:
            log.exception("%s: the claim could not be renewed", name)
        finally:
            connections.close_all()  # this thread's own connection

    companion = threading.Thread(target=renew, name=f"twofold-scheduler-{name}", daemon=True)
    companion.start()
    try:
        yield
    finally:
        done.set()
        companion.join()
