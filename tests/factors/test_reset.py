"""An administrator's reset of a member's 2FA (factors/reset.py): what goes, who is told, rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from tests.conftest import MOBILE, PASSWORD
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import Conflict, NotAllowed, NotFound, TooManyRequests
from twofold.factors import lockout
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.reset import reset_two_factor, resettable
from twofold.factors.sms import codes
from twofold.factors.sms.models import PendingSmsEnrollment, SmsCode, SmsFactor
from twofold.organizations.models import Membership

ENROLL = "/accounts/2fa/enroll/"


def signed_in_with_sms(email: str, sms_outbox) -> Client:
    """A browser in which the member signed in with password and SMS code."""
    client = Client()
    assert client.post("/accounts/login/", {"login": email, "password": PASSWORD})["Location"] == (
        "/accounts/2fa/"
    )
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})["Location"] == "/"
    return client


def password_step(email: str) -> tuple[Client, str]:
    """A new browser after the password; where it is sent next."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    return client, response["Location"]


def traces_of_second_factors(member: Membership) -> list[int]:
    user = member.user
    return [
        SmsFactor.objects.filter(user=user).count(),
        PendingSmsEnrollment.objects.filter(user=user).count(),
        SmsCode.objects.filter(user=user).count(),
        BackupCode.objects.filter(user=user).count(),
    ]


def test_reset_removes_the_factor_its_backup_codes_a_pending_change_and_codes_sent(
    administrator, member_with_sms, sms_outbox
):
    user = member_with_sms.user
    now = clock.now()
    # A change of number half done, and a code sent for it.
    PendingSmsEnrollment.objects.create(
        user=user, purpose="change_number", phone="+41781112233", binding="b", created_at=now
    )
    codes.issue_code(user, "+41781112233", purpose="change_number", binding="b", now=now)
    assert traces_of_second_factors(member_with_sms) == [1, 1, 1, 10]

    reset_two_factor(administrator, member_with_sms.pk)

    assert traces_of_second_factors(member_with_sms) == [0, 0, 0, 0]


def test_reset_ends_every_session_of_the_member_in_the_shared_store(
    administrator, member_with_sms, sms_outbox
):
    browser = signed_in_with_sms(member_with_sms.user.email, sms_outbox)
    session_key = browser.session.session_key
    assert browser.get("/api/v1/me").status_code == 200

    reset_two_factor(administrator, member_with_sms.pk)

    assert not UserSession.objects.filter(user=member_with_sms.user).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert browser.get("/api/v1/me").status_code == 401
    assert browser.get("/settings/security/")["Location"].startswith("/accounts/login/")


def test_asvs_6_3_7_member_is_emailed_naming_the_administrator_and_what_to_do(
    administrator, member_with_sms
):
    reset_two_factor(administrator, member_with_sms.pk)

    (message,) = mail.outbox
    assert message.to == [member_with_sms.user.email]
    assert message.subject == "[Twofold] Your two-factor authentication was reset"
    assert "ada@acme.test, an administrator of your account, reset" in message.body
    assert "sign in again with your password" in message.body
    assert "turn two-factor authentication on again" in message.body
    assert MOBILE not in message.body


def test_email_says_the_member_sets_2fa_up_again_when_the_account_requires_it(
    administrator, member_with_sms, account_requiring_2fa
):
    reset_two_factor(administrator, member_with_sms.pk)

    (message,) = mail.outbox
    assert "you will set it up again" in message.body
    assert "needs only your password" not in message.body


def test_reset_is_audited_with_the_administrator_as_actor_and_the_member_as_subject(
    administrator, member_with_sms
):
    reset_two_factor(administrator, member_with_sms.pk)

    event = AuditEvent.objects.get(event=Event.TWO_FACTOR_RESET)
    assert (event.actor, event.subject) == (administrator.user, member_with_sms.user)
    assert event.organization == administrator.organization
    assert event.detail == {"masked_phone": "+41 •• ••• •• 67"}
    assert "791234567" not in str(event.detail)


def test_reset_lifts_a_lock_of_the_old_factor_so_the_member_can_enroll_again(
    administrator, member_with_sms
):
    now = clock.now()
    for _ in range(lockout.limit()):
        lockout.record_failure(member_with_sms.user.pk, now)
    with pytest.raises(TooManyRequests):
        lockout.check_not_locked(member_with_sms.user.pk, now)

    reset_two_factor(administrator, member_with_sms.pk)

    lockout.check_not_locked(member_with_sms.user.pk, now + timedelta(seconds=1))


def test_after_a_reset_the_member_signs_in_with_the_password_only(
    administrator, member_with_sms, sms_outbox
):
    reset_two_factor(administrator, member_with_sms.pk)

    client, next_step = password_step(member_with_sms.user.email)

    assert next_step == "/"
    assert client.get("/api/v1/me").json()["data"]["amr"] == ["pwd"]
    assert sms_outbox.messages() == []


def test_after_a_reset_the_member_enrolls_again_when_the_account_requires_2fa(
    administrator, member_with_sms, account_requiring_2fa, sms_outbox
):
    reset_two_factor(administrator, member_with_sms.pk)

    client, next_step = password_step(member_with_sms.user.email)

    assert next_step == ENROLL
    assert client.get("/api/v1/me").status_code == 401  # no session before enrollment
    assert sms_outbox.messages() == []  # the old number is not challenged


def test_resetting_yourself_is_refused_and_points_to_your_own_settings(administrator_with_sms):
    with pytest.raises(Conflict) as refused:
        reset_two_factor(administrator_with_sms, administrator_with_sms.pk)

    assert refused.value.code == "cannot_reset_self"
    assert "Password and Two-Factor Authentication page" in refused.value.message
    assert SmsFactor.objects.filter(user=administrator_with_sms.user).exists()


def test_member_without_2fa_cannot_be_reset_and_nobody_is_told(administrator, member):
    with pytest.raises(Conflict) as refused:
        reset_two_factor(administrator, member.pk)

    assert refused.value.code == "two_factor_off"
    assert refused.value.message == "bob@acme.test has no two-factor authentication to reset."
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(event=Event.TWO_FACTOR_RESET).exists()


def test_member_cannot_reset_a_colleague(administrator_with_sms, member):
    with pytest.raises(NotAllowed):
        reset_two_factor(member, administrator_with_sms.pk)

    assert SmsFactor.objects.filter(user=administrator_with_sms.user).exists()


def test_member_of_another_account_does_not_exist_for_the_administrator(
    other_administrator, member_with_sms
):
    with pytest.raises(NotFound):
        resettable(other_administrator, member_with_sms.pk)
    with pytest.raises(NotFound):
        reset_two_factor(other_administrator, member_with_sms.pk)

    assert traces_of_second_factors(member_with_sms)[0] == 1
    assert mail.outbox == []


def test_confirmation_says_what_a_reset_would_remove(administrator, member_with_sms):
    found = resettable(administrator, member_with_sms.pk)

    assert found.member == member_with_sms
    assert (found.factors.masked_phone, found.factors.backup_codes_left) == ("+41 •• ••• •• 67", 10)
    assert found.enrolls_again is False
