"""Who runs a due job: the one runner whose conditional UPDATE claimed it.

The same on SQLite and PostgreSQL, without a lock held between statements: ``claim`` changes the
job's row only where it is due and nobody's lease is running. SQLite writes one statement at a
time; PostgreSQL makes a second UPDATE of the row wait for the first and then re-check its WHERE
against the committed row (READ COMMITTED), which then no longer matches. So exactly one runner
gets the row, in every process of every instance. A lease ends a claim whose runner died (a
killed worker, a lost machine): the next runner takes the job over once it has lapsed; a live
runner renews it while the job runs (``renew``).

Runners compare their own clocks with the leases others wrote: instances keep their clocks in
step (NTP), far closer than ``LEASE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from twofold.scheduler.models import ScheduledJob

LEASE = timedelta(minutes=5)  # a dead runner's claim is taken over this long after its last renewal


def due(names: Iterable[str], *, now: datetime) -> list[str]:
    """Which of ``names`` are due and unclaimed (a read, so that an idle tick writes nothing); a
    job never seen before is due at once."""
    wanted = list(names)
    known = set(ScheduledJob.objects.filter(name__in=wanted).values_list("name", flat=True))
    if missing := [name for name in wanted if name not in known]:
        # Several runners may add the same row at once: the first one's stays.
        ScheduledJob.objects.bulk_create(
            [ScheduledJob(name=name, due_at=now) for name in missing], ignore_conflicts=True
        )
    ready = ScheduledJob.objects.filter(_free(now), name__in=wanted, due_at__lte=now)
    found = set(ready.values_list("name", flat=True))
    return [name for name in wanted if name in found]


def claim(name: str, runner: str, *, now: datetime, lease: timedelta = LEASE) -> bool:
    """True for exactly one of the runners asking at once for a due job nobody holds."""
    claimed = ScheduledJob.objects.filter(_free(now), name=name, due_at__lte=now).update(
        holder=runner, lease_until=now + lease, last_started_at=now
    )
    return claimed == 1


def renew(name: str, runner: str, *, now: datetime, lease: timedelta = LEASE) -> bool:
    """Keep holding a job that is still running; False when the claim was lost (it lapsed, and
    another runner took the job over)."""
    return (
        ScheduledJob.objects.filter(name=name, holder=runner).update(lease_until=now + lease) == 1
    )


def release(name: str, runner: str, *, now: datetime, next_due: datetime, outcome: str) -> bool:
    """The run is over: the job is next due at ``next_due``. False when the claim was lost
    meanwhile; the row is then the new holder's and stays as it is."""
    released = ScheduledJob.objects.filter(name=name, holder=runner).update(
        holder="", lease_until=None, due_at=next_due, last_finished_at=now, last_outcome=outcome
    )
    return released == 1


def _free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)
