"""Deleting SMS rows no rule needs any more (data minimisation; the tables stop growing).

- ``SmsCode``: a code is worthless once expired; kept one more day for support questions.
- ``SmsDelivery``: counted by the daily send limits over the last 24 hours (``sms.limits``) and
  by the resend cooldown; kept one more day beyond that window, so two days in all.

Run daily by the operator (the coordinator wires it into the ``twofold`` command).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from twofold.factors.sms.models import SmsCode
from twofold.sms.limits import WINDOW
from twofold.sms.models import SmsDelivery

CODE_GRACE = timedelta(days=1)
DELIVERY_KEPT = WINDOW + timedelta(days=1)


@dataclass(frozen=True)
class SmsPurge:
    codes: int  # how many went (or, in a dry run, would go)
    deliveries: int


def purge_old_sms_rows(*, now: datetime, dry_run: bool = False) -> SmsPurge:
    """Delete codes expired over a day ago and deliveries over two days old; ``dry_run`` counts."""
    codes = SmsCode.objects.filter(expires_at__lt=now - CODE_GRACE)
    deliveries = SmsDelivery.objects.filter(created_at__lt=now - DELIVERY_KEPT)
    return SmsPurge(codes=_delete(codes, dry_run), deliveries=_delete(deliveries, dry_run))


def _delete(rows: QuerySet[SmsCode] | QuerySet[SmsDelivery], dry_run: bool) -> int:
    if dry_run:
        return rows.count()
    deleted, _ = rows.delete()
    return deleted
