"""The mandatory-2FA policy: the rule, its changes, and signing out members without 2FA."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from tests.conftest import PASSWORD, give_sms_factor, require_two_factor
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import Conflict, FlowError, NotAllowed
from twofold.factors import policy
from twofold.factors import status as factor_status
from twofold.factors.policy import TwoFactorRule
from twofold.factors.sms import flows as sms_flows
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Organization

NOW = clock.now()


def reloaded(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


# --- The rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "now", "left"),
    [
        pytest.param(TwoFactorRule(True, 0, NOW), NOW, 0, id="no-grace"),
        pytest.param(TwoFactorRule(True, 7, NOW), NOW, 7, id="just-ticked"),
        pytest.param(
            TwoFactorRule(True, 7, NOW), NOW + timedelta(days=6, hours=1), 1, id="last-day"
        ),
        pytest.param(TwoFactorRule(True, 7, NOW), NOW + timedelta(days=7), 0, id="over"),
        pytest.param(TwoFactorRule(False, 7, None), NOW, 0, id="not-required"),
    ],
)
def test_days_left_are_whole_days_rounded_up_until_the_grace_period_ends(rule, now, left):
    assert rule.days_left(now) == left


def test_the_account_rule_decides_whether_2fa_is_required(member, administrator):
    assert policy.two_factor_required(member.user) is False
    require_two_factor(administrator.organization)
    member.user.refresh_from_db()
    assert policy.two_factor_required(member.user) is True


def test_another_accounts_requirement_does_not_apply(member, other_administrator):
    require_two_factor(other_administrator.organization)
    assert policy.two_factor_required(member.user) is False


# --- Changing the policy ------------------------------------------------------------------------


def test_ticking_the_box_requires_2fa_from_now_and_is_audited(administrator_with_sms):
    organization = policy.change_policy(
        administrator_with_sms, require_two_factor=True, grace_days=14, now=NOW
    )

    saved = reloaded(organization)
    assert (saved.require_two_factor, saved.two_factor_grace_days) == (True, 14)
    assert saved.two_factor_required_since == NOW
    event = AuditEvent.objects.get(event=Event.POLICY_CHANGED)
    assert event.actor == administrator_with_sms.user
    assert event.organization == organization
    assert event.detail == {
        "require_two_factor": {"from": False, "to": True},
        "two_factor_grace_days": {"from": 0, "to": 14},
    }


def test_saving_again_does_not_restart_the_grace_period(administrator_with_sms):
    policy.change_policy(administrator_with_sms, require_two_factor=True, grace_days=7, now=NOW)
    later = NOW + timedelta(days=3)

    policy.change_policy(administrator_with_sms, require_two_factor=True, grace_days=10, now=later)

    saved = reloaded(administrator_with_sms.organization)
    assert saved.two_factor_required_since == NOW
    assert policy.rule_of(saved).days_left(later) == 7


def test_unticking_clears_the_start_of_the_grace_period(administrator_with_sms):
    policy.change_policy(administrator_with_sms, require_two_factor=True, grace_days=7)

    policy.change_policy(administrator_with_sms, require_two_factor=False, grace_days=7)

    saved = reloaded(administrator_with_sms.organization)
    assert (saved.require_two_factor, saved.two_factor_required_since) == (False, None)


def test_an_unchanged_policy_is_not_audited(administrator):
    policy.change_policy(administrator, require_two_factor=False, grace_days=0)
    assert not AuditEvent.objects.filter(event=Event.POLICY_CHANGED).exists()


def test_administrator_without_2fa_cannot_tick_the_box(administrator):
    with pytest.raises(Conflict) as raised:
        policy.change_policy(administrator, require_two_factor=True, grace_days=0)

    assert raised.value.code == "two_factor_required_first"
    assert reloaded(administrator.organization).require_two_factor is False
    assert not AuditEvent.objects.filter(event=Event.POLICY_CHANGED).exists()


@pytest.mark.parametrize("days", [-1, 91])
def test_grace_period_outside_0_to_90_days_is_refused(administrator_with_sms, days):
    with pytest.raises(FlowError) as raised:
        policy.change_policy(administrator_with_sms, require_two_factor=True, grace_days=days)
    assert raised.value.param == "two_factor_grace_days"
    assert reloaded(administrator_with_sms.organization).require_two_factor is False


def test_members_cannot_change_the_policy(member):
    give_sms_factor(member)
    with pytest.raises(NotAllowed):
        policy.change_policy(member, require_two_factor=True, grace_days=0)


# --- A member's own 2FA while required ------------------------------------------------------------


def test_member_cannot_turn_off_own_2fa_while_the_account_requires_it(
    member_with_sms, administrator
):
    require_two_factor(administrator.organization)
    member_with_sms.user.refresh_from_db()
    with pytest.raises(NotAllowed) as raised:
        sms_flows.disable(member_with_sms.user)
    assert raised.value.code == "two_factor_required"
    assert "cannot be turned off" in raised.value.message
    assert factor_status.status(member_with_sms.user).required is True
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_turning_off_own_2fa_is_refused_on_the_page_with_the_reason(
    member_with_sms, administrator, sms_outbox
):
    browser = _signed_in(member_with_sms.user.email, sms_outbox)
    require_two_factor(administrator.organization)
    page = browser.get("/settings/security/2fa/disable/").content.decode()
    assert "so it cannot be turned off" in page
    assert 'class="danger"' not in page  # no "Turn off" button

    response = browser.post("/settings/security/2fa/disable/", follow=True)

    assert "requires two-factor authentication, so it cannot be turned off" in (
        response.content.decode()
    )
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_turning_off_own_2fa_is_refused_in_the_api_with_the_reason(
    member_with_sms, administrator, sms_outbox
):
    browser = _signed_in(member_with_sms.user.email, sms_outbox)
    require_two_factor(administrator.organization)

    response = browser.delete("/api/v1/two-factor")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "two_factor_required"
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


# --- Signing out members without 2FA ------------------------------------------------------------


def _signed_in(email: str, sms_outbox=None) -> Client:
    """A browser signed in through the sign-in page, so its session is tracked."""
    browser = Client()
    response = browser.post("/accounts/login/", {"login": email, "password": PASSWORD})
    if response["Location"] == "/accounts/2fa/":
        browser.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert browser.get("/api/v1/me").status_code == 200
    return browser


def _app_signed_in(email: str) -> Client:
    response = Client().post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    return Client(headers={"X-Session-Token": response.json()["meta"]["session_token"]})


def test_signing_out_members_without_2fa_ends_their_sessions_and_not_the_others(
    administrator_with_sms, member, make_member, sms_outbox
):
    organization = administrator_with_sms.organization
    protected = give_sms_factor(make_member("cid@acme.test", organization=organization))
    browser = _signed_in(member.user.email)
    app = _app_signed_in(member.user.email)
    with_2fa = _signed_in(protected.user.email, sms_outbox)
    own = _signed_in(administrator_with_sms.user.email, sms_outbox)
    require_two_factor(organization)

    result = policy.sign_out_members_without_two_factor(administrator_with_sms)

    assert (result.members, result.sessions) == (1, 2)
    assert not UserSession.objects.filter(user=member.user).exists()
    assert browser.get("/api/v1/me").status_code == 401
    assert app.get("/api/v1/me").status_code == 401
    assert with_2fa.get("/api/v1/me").status_code == 200
    assert own.get("/api/v1/me").status_code == 200
    event = AuditEvent.objects.get(event=Event.MEMBERS_SIGNED_OUT)
    assert event.actor == administrator_with_sms.user
    assert event.detail == {"members": 1, "sessions": 2}


def test_signed_out_member_meets_the_enrollment_at_the_next_sign_in(administrator_with_sms, member):
    _signed_in(member.user.email)
    require_two_factor(administrator_with_sms.organization)
    policy.sign_out_members_without_two_factor(administrator_with_sms)

    response = Client().post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})

    assert response["Location"] == "/accounts/2fa/enroll/"


def test_signing_out_is_refused_while_2fa_is_not_required(administrator, member):
    browser = _signed_in(member.user.email)
    with pytest.raises(Conflict) as raised:
        policy.sign_out_members_without_two_factor(administrator)
    assert raised.value.code == "two_factor_not_required"
    assert browser.get("/api/v1/me").status_code == 200


def test_members_cannot_sign_out_others(member, administrator):
    require_two_factor(administrator.organization)
    with pytest.raises(NotAllowed):
        policy.sign_out_members_without_two_factor(member)
