"""The scheduler's thread: one in each process that serves Twofold (each gunicorn worker), started
by the WSGI module (config/wsgi.py) when ``TWOFOLD_SCHEDULER=on``; never by ``twofold``'s other
commands nor by the tests, which run a job by calling it.

Every ``TICK`` (give or take a tenth, so that workers started together spread out) the thread
asks the database which jobs are due and claims them (scheduler/claims.py): whichever worker of
whichever instance claims a job first runs it, the others find it held. The thread is a daemon
and uses its own database connection, closed after each tick: it never holds up a request nor a
worker's exit. At exit it is asked to stop: it starts no other job and is waited for at most
``STOP_WAIT``; a job cut short then is taken over by another runner after its lease.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connections

from twofold.scheduler.runner import run_due, runner_id

log = logging.getLogger("twofold.scheduler")

TICK = timedelta(seconds=10)
STOP_WAIT = timedelta(seconds=5)


class Scheduler:
    def __init__(self, tick: timedelta = TICK) -> None:
        self.tick = tick
        self.runner = runner_id()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="twofold-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: timedelta = STOP_WAIT) -> bool:
        """Ask the thread to stop; True when it has (False: a job is still running)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(wait.total_seconds())
        return not self._thread.is_alive()

    def _loop(self) -> None:
        log.info("scheduler started (runner %s)", self.runner)
        while not self._stopping.is_set():
            self._tick()
            self._stopping.wait(self.tick.total_seconds() * random.uniform(0.9, 1.1))  # noqa: S311

    def _tick(self) -> None:
        try:
            run_due(self.runner, stopping=self._stopping.is_set)
        except Exception:  # the database is away, say: the next tick tries again
            log.exception("scheduler tick failed")
        finally:
            connections.close_all()  # this thread's connection only


def start_in_this_process() -> Scheduler | None:
    """The serving process's scheduler, stopped at exit; None when ``TWOFOLD_SCHEDULER=off``."""
    if not settings.TWOFOLD.scheduler:
        return None
    scheduler = Scheduler()
    scheduler.start()
    atexit.register(scheduler.stop)
    return scheduler
