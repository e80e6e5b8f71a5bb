"""The second-factor lockout (factors/lockout.py): a right code resets the count only when there is
one to reset (issue 7), and the lock holds however failures and right codes interleave."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import MOBILE
from twofold import clock
from twofold.errors import FlowError, TooManyRequests
from twofold.factors import lockout
from twofold.factors.sms import codes

PURPOSE = "sign_in"


class Login:
    """One member's SMS sign-in attempts, a new code (and binding) when the last one is spent."""

    def __init__(self, user, sms_outbox) -> None:
        self.user, self.outbox = user, sms_outbox
        self.now = clock.now()
        self.codes = 0
        self.tries = 5

    def fresh_code(self) -> str:
        if self.tries == 5:
            self.now += timedelta(seconds=31)  # past the resend cooldown
            self.codes += 1
            codes.issue_code(self.user, MOBILE, purpose=PURPOSE, binding=self.binding, now=self.now)
            self.tries = 0
        self.tries += 1
        return self.outbox.last_code()

    @property
    def binding(self) -> str:
        return f"login-{self.codes}"

    def wrong(self) -> None:
        code = self.fresh_code()
        with pytest.raises(FlowError):
            self.verify(f"{(int(code) + 1) % 10**6:06d}")

    def right(self) -> None:
        self.verify(self.fresh_code())
        self.tries = 5  # the code is used

    def verify(self, code: str) -> None:
        codes.verify_code(self.user, code, purpose=PURPOSE, binding=self.binding, now=self.now)


def consecutive(user) -> int:
    return lockout.SecondFactorFailures.objects.get(user=user).consecutive


def test_check_not_locked_says_whether_a_right_code_has_failures_to_clear(member):
    now = clock.now()
    assert lockout.check_not_locked(member.user.pk, now) is False  # no row yet
    lockout.record_failure(member.user.pk, now)
    assert lockout.check_not_locked(member.user.pk, now) is True
    lockout.record_success(member.user.pk, had_failures=True)
    assert lockout.check_not_locked(member.user.pk, now) is False  # row at 0


def test_a_right_code_with_no_failures_on_record_writes_nothing_to_the_lockout(member, sms_outbox):
    login = Login(member.user, sms_outbox)
    login.wrong()
    login.right()  # resets the failure of the line above
    assert consecutive(member.user) == 0
    with CaptureQueriesContext(connection) as captured:
        login.right()
    writes = [q["sql"] for q in captured if q["sql"].startswith("UPDATE")]
    assert not any("secondfactorfailures" in sql for sql in writes)


def test_locks_after_20_failures_with_right_codes_before_them(member, sms_outbox):
    login = Login(member.user, sms_outbox)
    for _ in range(4):
        login.wrong()
    login.right()  # failures on record: reset
    assert consecutive(member.user) == 0
    login.right()  # none on record: no write, nothing changes
    for _ in range(19):
        login.wrong()
    assert consecutive(member.user) == 19
    login.wrong()
    with pytest.raises(TooManyRequests) as raised:
        lockout.check_not_locked(member.user.pk, login.now)
    assert raised.value.code == "second_factor_locked"


def test_a_failure_counted_while_a_right_code_is_checked_is_kept(member, sms_outbox):
    """A concurrent wrong code lands after this request read the lockout: the count keeps it (as
    if it came after the right code), so the lock still comes after 20 failures, never later."""
    login = Login(member.user, sms_outbox)
    read = lockout.check_not_locked

    def read_then_a_concurrent_failure(user_id, now):
        pending = read(user_id, now)
        lockout.record_failure(user_id, now)  # another request's wrong code, just after the read
        return pending

    code = login.fresh_code()
    with mock.patch.object(lockout, "check_not_locked", read_then_a_concurrent_failure):
        login.verify(code)
    login.tries = 5
    assert consecutive(member.user) == 1
    for _ in range(18):
        login.wrong()
    lockout.check_not_locked(member.user.pk, login.now)  # 19: not yet
    login.wrong()
    with pytest.raises(TooManyRequests):
        lockout.check_not_locked(member.user.pk, login.now)


def _lockout_writes(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured
        if q["sql"].startswith("UPDATE") and "secondfactorfailures" in q["sql"]
    ]


def test_an_app_code_resets_failures_and_writes_nothing_when_there_are_none(member_with_totp):
    from twofold.factors.totp import codes as totp_codes
    from twofold.factors.totp import flows as totp

    user, secret = member_with_totp.user, member_with_totp.totp_secret
    now = clock.now()
    lockout.record_failure(user.pk, now)
    totp.verify(user, totp_codes.code_at(secret, now), now=now)
    assert consecutive(user) == 0
    later = now + timedelta(seconds=30)  # the next time step: a new code
    with CaptureQueriesContext(connection) as captured:
        totp.verify(user, totp_codes.code_at(secret, later), now=later)
    assert _lockout_writes(captured) == []


def test_a_backup_code_resets_failures_and_writes_nothing_when_there_are_none(member_with_sms):
    from twofold.factors.backup_codes import flows as backup_codes

    user, spare = member_with_sms.user, member_with_sms.backup_codes
    lockout.record_failure(user.pk, clock.now())
    backup_codes.consume_backup_code(user, spare[0])
    assert consecutive(user) == 0
    with CaptureQueriesContext(connection) as captured:
        backup_codes.consume_backup_code(user, spare[1])
    assert _lockout_writes(captured) == []
