"""The authenticator app's flows (factors/totp/flows.py) and its place in the factors' rules: an
administrator's reset, the members list; allauth.mfa's own pages and endpoints are not served."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore

from tests.conftest import give_sms_factor
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError
from twofold.factors import member_factors
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.reset import reset_two_factor
from twofold.factors.totp import flows


def test_confirming_without_a_setup_in_progress_says_start_again(member):
    with pytest.raises(FlowError, match="Start again") as raised:
        flows.confirm(member.user, SessionStore(), "123456")
    assert raised.value.code == "enrollment_missing"


def test_administrator_reset_removes_the_authenticator_app_too(administrator, member_with_totp):
    give_sms_factor(member_with_totp)
    reset_two_factor(administrator, member_with_totp.pk)
    assert member_factors.methods(member_with_totp.user) == []
    assert not BackupCode.objects.filter(user=member_with_totp.user).exists()
    assert AuditEvent.objects.get(event=Event.TWO_FACTOR_RESET).factor == "totp,sms"


def test_members_list_counts_authenticator_apps(administrator, member_with_totp):
    assert member_with_totp.user.pk in {
        row["pk"] for row in member_factors.users_with_second_factor()
    }
    listed = member_factors.with_summaries(
        type(member_with_totp).objects.filter(pk=member_with_totp.pk)
    )
    summary = member_factors.summary(listed.get())
    assert (summary.enabled, summary.method, summary.methods) == (True, "totp", ("totp",))
    assert summary.masked_phone is None


def test_allauths_own_mfa_pages_and_endpoints_are_not_served(member_client):
    for path in (
        "/accounts/2fa/totp/activate/",
        "/accounts/2fa/authenticate/",
        "/_allauth/browser/v1/account/authenticators/totp",
        "/_allauth/app/v1/account/authenticators",
        "/_allauth/browser/v1/auth/2fa/authenticate",
    ):
        assert member_client.get(path).status_code == 404, path
        assert member_client.post(path).status_code == 404, path
