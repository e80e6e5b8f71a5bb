"""SMS code rules (DESIGN.md "SMS codes"; ASVS 6.5.1, 6.5.2, 6.5.4, 6.5.5, 6.6.2, 6.6.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from tests.concurrency import at_once
from tests.conftest import MOBILE
from twofold import clock
from twofold.errors import FlowError, NotAllowed, TooManyRequests, Unavailable
from twofold.factors import lockout
from twofold.factors.sms import codes
from twofold.factors.sms.models import SmsCode

PURPOSE = "sign_in"

# The WebOTP line names the public URL's host (localhost by default, issue 19).
PUBLIC_HOST = urlsplit(django_settings.TWOFOLD.public_url).hostname


def issue(user, binding="login-1", now=None):
    return codes.issue_code(user, MOBILE, purpose=PURPOSE, binding=binding, now=now or clock.now())


def verify(user, code, binding="login-1", now=None):
    codes.verify_code(user, code, purpose=PURPOSE, binding=binding, now=now or clock.now())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_code_is_six_digits_from_the_csprng_and_stored_only_as_an_hmac(member, sms_outbox):
    row = issue(member.user)
    code = sms_outbox.last_code()
    assert len(code) == 6
    assert code.isdigit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM factors_smscode")
        stored = " ".join(str(v) for r in cursor.fetchall() for v in r)
    assert code not in stored
    assert len(row.code_hmac) == 64


def test_code_is_usable_once(member, sms_outbox):
    issue(member.user)
    code = sms_outbox.last_code()
    verify(member.user, code)
    with pytest.raises(FlowError):
        verify(member.user, code)


def test_asvs_6_6_2_code_is_bound_to_the_login_that_asked_for_it(member, sms_outbox):
    start = clock.now()
    issue(member.user, binding="login-A", now=start)
    code_for_a = sms_outbox.last_code()
    issue(member.user, binding="login-B", now=start + timedelta(seconds=31))
    with pytest.raises(FlowError) as raised:
        verify(member.user, code_for_a, binding="login-B", now=start + timedelta(seconds=32))
    assert raised.value.code == "code_invalid"


def test_asvs_6_5_5_code_expires_after_five_minutes(member, sms_outbox):
    start = clock.now()
    issue(member.user, now=start)
    code = sms_outbox.last_code()
    with pytest.raises(FlowError) as raised:
        verify(member.user, code, now=start + timedelta(minutes=5, seconds=1))
    assert raised.value.code == "code_expired"
    verify(member.user, code, now=start + timedelta(minutes=4, seconds=59))


def test_five_tries_per_code(member, sms_outbox):
    issue(member.user)
    code = sms_outbox.last_code()
    for _ in range(5):
        with pytest.raises(FlowError):
            verify(member.user, wrong(code))
    with pytest.raises(FlowError) as raised:
        verify(member.user, code)
    assert raised.value.code == "code_exhausted"


def test_a_new_code_gets_five_fresh_tries_but_keeps_the_failure_count(member, sms_outbox):
    start = clock.now()
    issue(member.user, now=start)
    first = sms_outbox.last_code()
    for _ in range(5):
        with pytest.raises(FlowError):
            verify(member.user, wrong(first), now=start)
    with pytest.raises(FlowError) as raised:
        verify(member.user, first, now=start)
    assert raised.value.code == "code_exhausted"
    issue(member.user, now=start + timedelta(seconds=31))
    second = sms_outbox.last_code()
    for _ in range(4):
        with pytest.raises(FlowError) as raised:
            verify(member.user, wrong(second), now=start + timedelta(seconds=32))
        assert raised.value.code == "code_invalid"
    failures = lockout.SecondFactorFailures.objects.get(user=member.user)
    assert failures.consecutive == 9  # the count across codes survives the resend
    verify(member.user, second, now=start + timedelta(seconds=33))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_wrong_codes_spend_at_most_five_tries(member, sms_outbox):
    issue(member.user)
    not_it = wrong(sms_outbox.last_code())
    outcomes = at_once(lambda: verify(member.user, not_it))
    refusals = sorted(o.code if isinstance(o, FlowError) else repr(o) for o in outcomes)
    assert refusals == ["code_exhausted"] * 15 + ["code_invalid"] * 5
    assert SmsCode.objects.get(user=member.user).attempts == 5


def test_resend_cooldown_is_30_seconds(member, sms_outbox):
    start = clock.now()
    issue(member.user, now=start)
    with pytest.raises(TooManyRequests) as raised:
        issue(member.user, now=start + timedelta(seconds=10))
    assert raised.value.retry_after == 20
    assert raised.value.code == "sms_resend_cooldown"
    issue(member.user, now=start + timedelta(seconds=30))
    assert len(sms_outbox.messages()) == 2


def test_resend_cooldown_holds_across_logins(member, sms_outbox):
    start = clock.now()
    issue(member.user, binding="login-A", now=start)
    with pytest.raises(TooManyRequests) as raised:
        issue(member.user, binding="login-B", now=start + timedelta(seconds=5))
    assert raised.value.code == "sms_resend_cooldown"
    assert len(sms_outbox.messages()) == 1


def test_a_member_whose_second_factor_is_locked_is_not_texted(member, sms_outbox):
    now = clock.now()
    lockout.SecondFactorFailures.objects.create(
        user=member.user, consecutive=20, locked_until=now + timedelta(minutes=1)
    )
    with pytest.raises(TooManyRequests) as raised:
        issue(member.user, now=now)
    assert raised.value.code == "second_factor_locked"
    assert "Try again in" in raised.value.message
    assert sms_outbox.messages() == []


def test_a_deactivated_member_is_not_texted(member, sms_outbox):
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    with pytest.raises(NotAllowed) as raised:
        issue(member.user)
    assert raised.value.code == "account_inactive"
    assert sms_outbox.messages() == []


def test_a_new_code_supersedes_the_previous_one(member, sms_outbox):
    start = clock.now()
    issue(member.user, now=start)
    first = sms_outbox.last_code()
    issue(member.user, now=start + timedelta(seconds=31))
    with pytest.raises(FlowError):
        verify(member.user, first, now=start + timedelta(seconds=32))


def test_failure_lock_after_20_consecutive_failures_grows_and_emails_the_member(member, sms_outbox):
    start = clock.now()
    for n in range(20):
        # a new login (binding) every 5 tries, so only the per-member count can stop this
        binding = f"login-{n // 5}"
        if n % 5 == 0:
            issue(member.user, binding=binding, now=start + timedelta(seconds=31 * n))
        with pytest.raises(FlowError):
            verify(member.user, "000000" if n % 2 else "999999", binding=binding, now=start)
    failures = lockout.SecondFactorFailures.objects.get(user=member.user)
    assert failures.locked_until == start + timedelta(minutes=1)
    assert any("paused" in m.subject.lower() for m in mail.outbox)
    with pytest.raises(TooManyRequests) as raised:
        verify(member.user, sms_outbox.last_code(), binding="login-3", now=start)
    assert raised.value.code == "second_factor_locked"
    # The next failure after the lock doubles the delay.
    later = start + timedelta(minutes=10)
    issue(member.user, binding="login-9", now=later)
    with pytest.raises(FlowError):
        verify(member.user, wrong(sms_outbox.last_code()), binding="login-9", now=later)
    failures.refresh_from_db()
    assert failures.locked_until == later + timedelta(minutes=2)


def test_a_right_code_resets_the_failure_count(member, sms_outbox):
    issue(member.user)
    code = sms_outbox.last_code()
    with pytest.raises(FlowError):
        verify(member.user, wrong(code))
    verify(member.user, code)
    assert lockout.SecondFactorFailures.objects.get(user=member.user).consecutive == 0


def test_text_names_the_service_and_expiry_and_ends_with_the_webotp_line(member, sms_outbox):
    issue(member.user)
    body = sms_outbox.messages()[-1]["body"]
    code = sms_outbox.last_code()
    assert "Twofold" in body
    assert "5 minutes" in body
    assert body.splitlines()[-1] == f"@{PUBLIC_HOST} #{code}"
    assert len(body) <= 160


def test_no_code_is_kept_when_the_text_cannot_be_sent(member):
    down = Unavailable("We could not send the text message right now.", code="sms_unavailable")
    with (
        mock.patch("twofold.factors.sms.codes.send_sms", side_effect=down),
        pytest.raises(Unavailable),
    ):
        issue(member.user)
    assert not SmsCode.objects.exists()


@pytest.mark.parametrize(
    ("lifetime", "words"),
    [
        (60, "It expires in 1 minute."),
        (90, "It expires in 90 seconds."),
        (150, "It expires in 2 minutes."),
        (300, "It expires in 5 minutes."),
        (600, "It expires in 10 minutes."),
    ],
)
def test_text_says_the_expiry_in_correct_words_never_promising_more_time(settings, lifetime, words):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_code_lifetime=lifetime)
    body = codes.message("123456", PURPOSE)
    assert words in body
    assert body.splitlines()[-1] == f"@{PUBLIC_HOST} #123456"
