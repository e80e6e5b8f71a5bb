"""How long audit events are kept: ``TWOFOLD_AUDIT_RETENTION_DAYS`` (default 365), then purged.

The purge is the only way an event leaves the log (``AuditEventQuerySet._purge_before``); the
operator runs ``twofold purge-audit`` daily (docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from twofold.audit.models import AuditEvent


@dataclass(frozen=True)
class Purge:
    cutoff: datetime  # events written before this moment go
    count: int  # how many went (or, in a dry run, would go)


def cutoff(now: datetime, retention_days: int) -> datetime:
    if retention_days < 1:
        # A zero would empty the log at once; the settings refuse it, so must this.
        raise ValueError("Audit events are kept for at least one day.")
    return now - timedelta(days=retention_days)


def purge(*, now: datetime, retention_days: int, dry_run: bool = False) -> Purge:
    """Delete the events older than the retention, in every account; ``dry_run`` only counts."""
    before = cutoff(now, retention_days)
    if dry_run:
        return Purge(before, AuditEvent.objects.filter(created_at__lt=before).count())
    # A private queryset method is not copied to the manager: reach it through all().
    return Purge(before, AuditEvent.objects.all()._purge_before(before))
