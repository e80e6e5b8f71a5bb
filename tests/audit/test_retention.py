"""Retention: events older than TWOFOLD_AUDIT_RETENTION_DAYS go, through ``twofold purge-audit``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.audit.conftest import DAY
from twofold import cli, clock
from twofold.audit import retention
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.audit.record import record
from twofold.organizations.models import Membership


@pytest.fixture
def aged(member: Membership) -> dict[str, AuditEvent]:
    """Events 400, 366, 364 and 1 days before DAY."""
    return {
        f"{days}d": record(Event.SIGNED_OUT, subject=member.user, now=DAY - timedelta(days=days))
        for days in (400, 366, 364, 1)
    }


def remaining(events: dict[str, AuditEvent]) -> list[str]:
    left = set(AuditEvent.objects.values_list("pk", flat=True))
    return [name for name, event in events.items() if event.pk in left]


def test_purge_removes_events_older_than_the_retention_and_keeps_recent(
    aged: dict[str, AuditEvent],
) -> None:
    done = retention.purge(now=DAY, retention_days=365)

    assert done.count == 2
    assert done.cutoff == DAY - timedelta(days=365)
    assert remaining(aged) == ["364d", "1d"]


def test_purge_follows_the_retention_it_is_given(aged: dict[str, AuditEvent]) -> None:
    retention.purge(now=DAY, retention_days=30)

    assert remaining(aged) == ["1d"]


def test_dry_run_counts_and_deletes_nothing(aged: dict[str, AuditEvent]) -> None:
    done = retention.purge(now=DAY, retention_days=365, dry_run=True)

    assert done.count == 2
    assert remaining(aged) == list(aged)


def test_retention_under_one_day_is_refused(aged: dict[str, AuditEvent]) -> None:
    with pytest.raises(ValueError):
        retention.purge(now=DAY, retention_days=0)
    assert remaining(aged) == list(aged)


def test_purge_audit_command_deletes_what_is_older_than_the_setting(
    member: Membership, capsys: pytest.CaptureFixture[str]
) -> None:
    now = clock.now()
    old = record(Event.SIGNED_OUT, subject=member.user, now=now - timedelta(days=366))
    recent = record(Event.SIGNED_OUT, subject=member.user, now=now - timedelta(days=364))

    assert cli.main(["purge-audit", "--dry-run"]) == 0
    assert "Would delete 1 audit event older than 365 days" in capsys.readouterr().out
    assert AuditEvent.objects.filter(pk=old.pk).exists()

    assert cli.main(["purge-audit"]) == 0
    assert "Deleted 1 audit event older than 365 days" in capsys.readouterr().out
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
