"""Enrollment and management flows of SMS 2FA: nothing is active until the last step."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail

from tests.conftest import MOBILE
from twofold.errors import FlowError, NotAllowed, TooManyRequests, Unavailable
from twofold.factors import status as factor_status
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms import flows
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor

NEW_MOBILE = "+41781112233"


def no_active_factor(user) -> bool:
    return (
        not SmsFactor.objects.filter(user=user).exists()
        and not BackupCode.objects.filter(user=user, active=True).exists()
    )


def enroll(user, sms_outbox, phone="079 123 45 67") -> list[str]:
    flows.start(user, phone)
    flows.confirm_code(user, sms_outbox.last_code())
    shown = flows.show_backup_codes(user)
    flows.activate(user, saved_backup_codes=True)
    return shown


def test_whole_enrollment_activates_the_factor_and_ten_backup_codes(member, sms_outbox):
    enroll(member.user, sms_outbox)
    factor = SmsFactor.objects.get(user=member.user)
    assert factor.phone == MOBILE
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()
    assert any("two-factor authentication is on" in m.subject.lower() for m in mail.outbox)
    assert factor_status.status(member.user).enabled


@pytest.mark.parametrize("abandon_after", ["number", "code", "backup_codes"])
def test_abandoned_enrollment_leaves_no_active_factor(member, sms_outbox, abandon_after):
    flows.start(member.user, "079 123 45 67")
    if abandon_after in ("code", "backup_codes"):
        flows.confirm_code(member.user, sms_outbox.last_code())
    if abandon_after == "backup_codes":
        flows.show_backup_codes(member.user)
    assert no_active_factor(member.user)
    assert not factor_status.status(member.user).enabled


def test_activation_needs_the_saved_confirmation(member, sms_outbox):
    flows.start(member.user, "079 123 45 67")
    flows.confirm_code(member.user, sms_outbox.last_code())
    flows.show_backup_codes(member.user)
    with pytest.raises(FlowError) as raised:
        flows.activate(member.user, saved_backup_codes=False)
    assert raised.value.code == "backup_codes_not_saved"
    assert no_active_factor(member.user)


def test_activation_needs_a_confirmed_number(member):
    flows.start(member.user, "079 123 45 67")
    with pytest.raises(FlowError):
        flows.show_backup_codes(member.user)
    with pytest.raises(FlowError):
        flows.activate(member.user, saved_backup_codes=True)
    assert no_active_factor(member.user)


def test_failed_send_leaves_the_member_as_before(member):
    down = Unavailable("We could not send the text message right now.", code="sms_unavailable")
    with (
        mock.patch("twofold.factors.sms.codes.send_sms", side_effect=down),
        pytest.raises(Unavailable),
    ):
        flows.start(member.user, "079 123 45 67")
    assert not PendingSmsEnrollment.objects.exists()
    assert no_active_factor(member.user)


def test_starting_again_begins_afresh(member, sms_outbox):
    flows.start(member.user, "079 123 45 67")
    first_code = sms_outbox.last_code()
    flows.start(member.user, "078 111 22 33")
    with pytest.raises(FlowError):
        flows.confirm_code(member.user, first_code)
    assert PendingSmsEnrollment.objects.get(user=member.user).phone == NEW_MOBILE


def test_starting_again_with_the_same_number_keeps_the_resend_cooldown(member, sms_outbox):
    flows.start(member.user, "079 123 45 67")
    first_code = sms_outbox.last_code()
    with pytest.raises(TooManyRequests) as raised:
        flows.start(member.user, "+41 79 123 45 67")
    assert raised.value.code == "sms_resend_cooldown"
    assert len(sms_outbox.messages()) == 1
    flows.confirm_code(member.user, first_code)  # the enrollment under way is untouched


def test_landline_is_refused_with_a_clear_message(member):
    with pytest.raises(FlowError) as raised:
        flows.start(member.user, "044 668 18 00")
    assert raised.value.param == "phone"
    assert "mobile" in raised.value.message.lower() or "text" in raised.value.message.lower()


def test_change_number_confirms_the_new_number_and_emails(member_with_sms, sms_outbox):
    user = member_with_sms.user
    flows.start(user, "078 111 22 33")
    assert SmsFactor.objects.get(user=user).phone == MOBILE  # not before confirmation
    assert sms_outbox.messages()[-1]["to"] == NEW_MOBILE
    flows.confirm_code(user, sms_outbox.last_code())
    assert SmsFactor.objects.get(user=user).phone == NEW_MOBILE
    assert any("number was changed" in m.subject.lower() for m in mail.outbox)


def test_regenerate_replaces_the_whole_set(member_with_sms):
    old = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    shown = flows.regenerate_backup_codes(member_with_sms.user)
    assert len(shown) == 10
    now_active = BackupCode.objects.filter(user=member_with_sms.user, active=True)
    assert now_active.count() == 10
    assert not old & set(now_active.values_list("pk", flat=True))


def test_disable_removes_factor_and_codes_and_emails(member_with_sms):
    flows.disable(member_with_sms.user)
    assert no_active_factor(member_with_sms.user)
    assert not BackupCode.objects.filter(user=member_with_sms.user).exists()
    assert any("turned off" in m.subject.lower() for m in mail.outbox)


def test_disable_is_refused_with_the_reason_when_the_account_requires_2fa(member_with_sms):
    required = mock.patch("twofold.factors.sms.flows.policy.two_factor_required", return_value=True)
    with required, pytest.raises(NotAllowed) as raised:
        flows.disable(member_with_sms.user)
    assert raised.value.code == "two_factor_required"
    assert "requires two-factor" in raised.value.message
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_status_warns_when_three_or_fewer_backup_codes_are_left(member_with_sms):
    from twofold.factors.backup_codes import flows as backup_codes

    for code in member_with_sms.backup_codes[:6]:
        backup_codes.consume_backup_code(member_with_sms.user, code)
    assert not factor_status.status(member_with_sms.user).few_backup_codes_left
    backup_codes.consume_backup_code(member_with_sms.user, member_with_sms.backup_codes[6])
    state = factor_status.status(member_with_sms.user)
    assert (state.backup_codes_left, state.few_backup_codes_left) == (3, True)
