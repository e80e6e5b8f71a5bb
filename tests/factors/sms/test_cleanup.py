"""Old SMS codes and delivery rows are deleted; the ones rules still need are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import MOBILE
from twofold import clock
from twofold.factors.sms import codes
from twofold.factors.sms.cleanup import purge_old_sms_rows
from twofold.factors.sms.models import SmsCode
from twofold.sms.models import SmsDelivery


def text_at(user, when) -> None:
    codes.issue_code(user, MOBILE, purpose="sign_in", binding=codes.new_binding(), now=when)


def test_codes_expired_more_than_a_day_ago_are_deleted(member, sms_outbox):
    now = clock.now()
    text_at(member.user, now - timedelta(days=1, minutes=6))  # expired a day and a minute ago
    text_at(member.user, now - timedelta(hours=23))  # expired, but less than a day ago
    text_at(member.user, now)  # still open
    purged = purge_old_sms_rows(now=now)
    assert purged.codes == 1
    assert SmsCode.objects.count() == 2


def test_deliveries_are_kept_two_days_so_the_daily_limits_still_count_them(member, sms_outbox):
    now = clock.now()
    text_at(member.user, now - timedelta(days=2, minutes=1))
    text_at(member.user, now - timedelta(hours=47))
    text_at(member.user, now - timedelta(hours=1))
    purged = purge_old_sms_rows(now=now)
    assert purged.deliveries == 1
    assert SmsDelivery.objects.count() == 2


@pytest.mark.parametrize("dry_run", [True, False])
def test_dry_run_counts_without_deleting(member, sms_outbox, dry_run):
    now = clock.now()
    text_at(member.user, now - timedelta(days=3))
    purged = purge_old_sms_rows(now=now, dry_run=dry_run)
    assert (purged.codes, purged.deliveries) == (1, 1)
    assert SmsCode.objects.exists() is dry_run
    assert SmsDelivery.objects.exists() is dry_run


def test_purge_sms_command_deletes_old_rows(member, sms_outbox, capsys):
    from twofold import cli

    text_at(member.user, clock.now() - timedelta(days=3))
    text_at(member.user, clock.now())
    assert cli.main(["purge-sms", "--dry-run"]) == 0
    assert "Would delete 1 expired SMS codes and 1 old SMS delivery records" in (
        capsys.readouterr().out
    )
    assert SmsCode.objects.count() == 2
    assert cli.main(["purge-sms"]) == 0
    assert "Deleted 1 expired SMS codes and 1 old SMS delivery records" in capsys.readouterr().out
    assert SmsCode.objects.count() == 1
    assert SmsDelivery.objects.count() == 1
