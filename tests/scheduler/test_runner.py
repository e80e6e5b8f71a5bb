"""The scheduled jobs (scheduler/jobs.py, scheduler/runner.py): each does what its command does,
a failure is logged and the others run, a dead runner's claim is taken over after its lease."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from twofold import cli, clock
from twofold.audit import retention
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.audit.record import record
from twofold.factors.sms.cleanup import SmsPurge
from twofold.idp.expired_tokens import TokenPurge
from twofold.organizations.models import Membership
from twofold.organizations.unverified import UnverifiedPurge
from twofold.scheduler import claims
from twofold.scheduler.jobs import DAY, JOBS, Job
from twofold.scheduler.models import ScheduledJob
from twofold.scheduler.runner import RETRY_AFTER_ERROR, run_due
from twofold.signin import remembered
from twofold.signin.models import RememberedDevice
from twofold.sso.domain_verification import CheckReport, Outcome

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=clock.now().tzinfo)
RUNNER = "test:1:runner"
pytestmark = pytest.mark.django_db


def at(moment: datetime) -> Any:
    return lambda: moment


def job(name: str) -> Job:
    return next(j for j in JOBS if j.name == name)


# Each job and the function its command calls, faked to say it did three things.
DOMAINS = CheckReport(
    Counter(
        {
            Outcome.VERIFIED: 1,
            Outcome.MISSED: 1,
            Outcome.LAPSED: 1,
            Outcome.PENDING: 4,
            Outcome.STILL_VERIFIED: 2,
        }
    )
)
SAME_FUNCTION = [
    ("purge-audit", "twofold.audit.retention.purge", retention.Purge(cutoff=NOW, count=3)),
    ("purge-sms", "twofold.factors.sms.cleanup.purge_old_sms_rows", SmsPurge(2, 1)),
    ("purge-devices", "twofold.signin.remembered.purge_expired", 3),
    (
        "purge-unverified",
        "twofold.organizations.unverified.purge_expired",
        UnverifiedPurge(count=3, cutoff=NOW),
    ),
    ("purge-tokens", "twofold.idp.expired_tokens.purge_expired", TokenPurge(1, 1, 0, 1)),
    ("check-domains", "twofold.sso.domain_verification.check_all", DOMAINS),
    ("deliver-logouts", "twofold.idp.backchannel.deliver_due", (2, 1)),
]


@pytest.mark.parametrize(("name", "function", "result"), SAME_FUNCTION)
def test_each_job_calls_the_function_its_command_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, name: str, function: str, result: Any
) -> None:
    calls: list[str] = []

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls.append("called")
        return result

    monkeypatch.setattr(function, fake)

    [run] = run_due(RUNNER, now=at(NOW), jobs=[job(name)])
    assert cli.main([name]) == 0

    assert calls == ["called", "called"]
    assert (run.job, run.outcome, run.affected) == (name, "ok", 3)


def test_a_scheduled_run_deletes_what_the_purges_delete_and_keeps_the_rest(
    member: Membership,
) -> None:
    now = clock.now()
    events = [
        record(Event.SIGNED_OUT, subject=member.user, now=now - timedelta(days=d)) for d in (400, 1)
    ]
    devices = [
        RememberedDevice.objects.create(
            user=member.user,
            token_hash=hashlib.sha256(name.encode()).hexdigest(),
            factors=remembered.factors_fingerprint(member.user),
            device="Firefox on Linux",
            created_at=expires - remembered.REMEMBER_FOR,
            expires_at=expires,
        )
        for name, expires in (("expired", now - timedelta(days=1)), ("valid", now + DAY))
    ]

    runs = run_due(RUNNER, now=at(now))

    assert sorted(r.job for r in runs) == sorted(j.name for j in JOBS)
    assert {r.outcome for r in runs} == {"ok"}
    assert list(AuditEvent.objects.filter(pk__in=[e.pk for e in events])) == events[1:]
    assert list(RememberedDevice.objects.all()) == devices[1:]
    assert {r.job: r.affected for r in runs}["purge-devices"] == 1


def test_a_job_runs_again_only_once_its_interval_has_passed() -> None:
    ran: list[datetime] = []
    daily = Job("purge-devices", DAY, lambda now: ran.append(now) or 0)

    run_due(RUNNER, now=at(NOW), jobs=[daily])
    run_due(RUNNER, now=at(NOW + DAY - timedelta(seconds=1)), jobs=[daily])
    run_due(RUNNER, now=at(NOW + DAY), jobs=[daily])

    assert ran == [NOW, NOW + DAY]


def test_a_failing_job_is_logged_as_an_error_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[tuple[str, str, int]] = []
    monkeypatch.setattr("twofold.metrics.cleanup_ran", lambda *run: counted.append(run))

    def broken(now: datetime) -> int:
        raise RuntimeError("the table is gone")

    jobs = [Job("purge-audit", DAY, broken), Job("purge-devices", DAY, lambda now: 2)]
    with caplog.at_level(logging.INFO, logger="twofold.scheduler"):
        runs = run_due(RUNNER, now=at(NOW), jobs=jobs)

    assert [(r.job, r.outcome, r.affected) for r in runs] == [
        ("purge-audit", "error", 0),
        ("purge-devices", "ok", 2),
    ]
    lines = [r for r in caplog.records if r.name == "twofold.scheduler"]
    assert [(r.levelname, r.job, r.outcome, r.affected) for r in lines] == [  # type: ignore[attr-defined]
        ("ERROR", "purge-audit", "error", 0),
        ("INFO", "purge-devices", "ok", 2),
    ]
    assert lines[0].exc_info is not None
    assert "the table is gone" in caplog.text
    assert counted == [("purge-audit", "failure", 0), ("purge-devices", "success", 2)]
    failed = ScheduledJob.objects.get(name="purge-audit")
    assert (failed.last_outcome, failed.due_at, failed.holder) == (
        "error",
        NOW + RETRY_AFTER_ERROR,
        "",
    )


def test_a_claim_held_by_a_dead_runner_is_taken_over_after_its_lease() -> None:
    ran: list[datetime] = []
    daily = Job("purge-devices", DAY, lambda now: ran.append(now) or 0)
    assert claims.due([daily.name], now=NOW) == [daily.name]
    assert claims.claim(daily.name, "dead:1:runner", now=NOW)  # ... which then died

    assert run_due(RUNNER, now=at(NOW + claims.LEASE - timedelta(seconds=1)), jobs=[daily]) == []
    assert run_due(RUNNER, now=at(NOW + claims.LEASE), jobs=[daily])[0].outcome == "ok"

    assert ran == [NOW + claims.LEASE]
    row = ScheduledJob.objects.get()
    assert (row.holder, row.due_at) == ("", NOW + claims.LEASE + DAY)


def test_a_renewed_claim_is_not_taken_over_and_a_lost_one_cannot_be_released() -> None:
    claims.due(["purge-sms"], now=NOW)
    assert claims.claim("purge-sms", "slow:1:runner", now=NOW)
    assert claims.renew("purge-sms", "slow:1:runner", now=NOW + timedelta(minutes=4))

    assert not claims.claim("purge-sms", RUNNER, now=NOW + claims.LEASE)
    taken_over = NOW + timedelta(minutes=4) + claims.LEASE
    assert claims.claim("purge-sms", RUNNER, now=taken_over)
    assert not claims.renew("purge-sms", "slow:1:runner", now=taken_over)
    assert not claims.release(
        "purge-sms", "slow:1:runner", now=taken_over, next_due=taken_over + DAY, outcome="ok"
    )
    assert ScheduledJob.objects.get().holder == RUNNER
