"""The jobs Twofold runs on its own, each the same function as its ``twofold`` command (named
alike), so that cron and the scheduler delete the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from twofold.audit import retention
from twofold.factors.sms import cleanup
from twofold.idp import backchannel, expired_tokens
from twofold.organizations import unverified
from twofold.signin import remembered
from twofold.sso import domain_verification
from twofold.sso.domain_verification import Outcome

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str  # the ``twofold`` command that does the same
    every: timedelta
    run: Callable[[datetime], int]  # given the time, does the work: how many rows it changed
    deletes: bool = True  # those rows were deleted (the clean-up metric counts them)


def purge_audit(now: datetime) -> int:
    days = settings.TWOFOLD.audit_retention_days
    return retention.purge(now=now, retention_days=days).count


def purge_sms(now: datetime) -> int:
    done = cleanup.purge_old_sms_rows(now=now)
    return done.codes + done.deliveries


def purge_devices(now: datetime) -> int:
    return remembered.purge_expired(now=now)


def purge_unverified(now: datetime) -> int:
    return unverified.purge_expired(now=now).count


def purge_tokens(now: datetime) -> int:
    return expired_tokens.purge_expired(now=now).count


def check_domains(now: datetime) -> int:
    """The claims whose state changed (verified, missed once more, or lapsed)."""
    changed = (Outcome.VERIFIED, Outcome.MISSED, Outcome.LAPSED)
    outcomes = domain_verification.check_all().outcomes
    return sum(outcomes[outcome] for outcome in changed)


def deliver_logouts(now: datetime) -> int:
    """The logout tokens tried (delivered or failed once more)."""
    delivered, failed = backchannel.deliver_due(now)
    return delivered + failed


JOBS: tuple[Job, ...] = (
    # Retries are due after 1, 5 and 30 minutes (idp/backchannel.py): a minute late at most.
    Job("deliver-logouts", MINUTE, deliver_logouts, deletes=False),
    Job("purge-audit", DAY, purge_audit),
    Job("purge-sms", DAY, purge_sms),
    Job("purge-devices", DAY, purge_devices),
    Job("purge-unverified", DAY, purge_unverified),
    Job("purge-tokens", DAY, purge_tokens),
    Job("check-domains", DAY, check_domains, deletes=False),
)
