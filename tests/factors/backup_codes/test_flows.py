"""Backup codes (DESIGN.md "Backup codes"; ASVS 6.5.1, 6.5.2, 6.5.3)."""

from __future__ import annotations

import math

import pytest
from django.core import mail
from django.db import connection

from tests.concurrency import at_once
from twofold.errors import FlowError
from twofold.factors.backup_codes import flows
from twofold.factors.backup_codes.models import BackupCode


def test_ten_codes_of_at_least_64_bits_in_groups(member_with_sms):
    shown = member_with_sms.backup_codes
    assert len(shown) == 10
    assert len(set(shown)) == 10
    for code in shown:
        raw = flows.normalized(code)
        assert len(raw) == 13
        assert set(raw) <= set(flows.ALPHABET)
        assert code.count("-") == 2
    assert math.log2(len(flows.ALPHABET)) * flows.LENGTH >= 64


def test_asvs_6_5_2_backup_codes_are_stored_as_salted_password_hashes(member_with_sms):
    with connection.cursor() as cursor:
        cursor.execute("SELECT code_hash FROM factors_backupcode")
        hashes = [row[0] for row in cursor.fetchall()]
    assert len(hashes) == 10
    assert all(h.startswith("argon2$argon2id$") for h in hashes)
    salts = {h.split("$")[4] for h in hashes}
    assert len(salts) == 10
    everything = " ".join(hashes)
    for code in member_with_sms.backup_codes:
        assert flows.normalized(code) not in everything


def test_backup_code_works_once_and_says_how_many_are_left(member_with_sms):
    code = member_with_sms.backup_codes[0]
    assert flows.consume_backup_code(member_with_sms.user, code.lower()) == 9
    with pytest.raises(FlowError) as raised:
        flows.consume_backup_code(member_with_sms.user, code)
    assert raised.value.code == "backup_code_invalid"


def test_using_a_backup_code_emails_the_member(member_with_sms):
    flows.consume_backup_code(member_with_sms.user, member_with_sms.backup_codes[1])
    assert [m.subject for m in mail.outbox if "backup code" in m.subject.lower()]
    assert mail.outbox[-1].to == [member_with_sms.user.email]


def test_pending_codes_never_work(member):
    pending = flows.create_pending(member.user)
    with pytest.raises(FlowError):
        flows.consume_backup_code(member.user, pending[0])


@pytest.mark.django_db(transaction=True)
def test_backup_code_spent_by_20_concurrent_requests_succeeds_exactly_once(member_with_sms):
    code = member_with_sms.backup_codes[2]
    outcomes = at_once(lambda: flows.consume_backup_code(member_with_sms.user, code))
    refused = [o for o in outcomes if isinstance(o, FlowError)]
    assert len(refused) == 19
    spent = [o for o in outcomes if not isinstance(o, FlowError)]
    assert len(spent) == 1
    assert isinstance(spent[0], int)  # how many are left
    assert BackupCode.objects.filter(user=member_with_sms.user, used_at__isnull=False).count() == 1
