""" "Account & Security": the mandatory-2FA tickbox, the grace period, signing out members."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tests.conftest import MOBILE, PASSWORD, freshly_signed_in, require_two_factor, signed_in
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import policy
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Organization

ACCOUNT = "/account/"
POLICY = "/account/security/"
SIGN_OUT = "/account/security/sign-out-members-without-2fa"
ENABLE = "/settings/security/2fa/enable/"
TICKED = {"require_two_factor": "on", "two_factor_grace_days": "0"}


def policy_of(organization: Organization) -> tuple[bool, int]:
    saved = Organization.objects.get(pk=organization.pk)
    return saved.require_two_factor, saved.two_factor_grace_days


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def administrator_with_sms_client(administrator_with_sms) -> Client:
    """Signed in just now: changing the policy needs a recent authentication (ASVS 7.5.1)."""
    return freshly_signed_in(Client(), administrator_with_sms)


@pytest.fixture
def administrator_client(administrator) -> Client:
    return freshly_signed_in(Client(), administrator)


def test_page_offers_the_tickbox_with_its_effect(administrator_client):
    page = text(administrator_client.get(ACCOUNT))
    assert "Mandatory Two-Factor-Authentication" in page
    assert 'type="checkbox" name="require_two_factor"' in page
    assert "members without it are asked to set it up at their next sign-in" in page
    assert 'name="two_factor_grace_days"' in page
    assert "Sign out members without 2FA now" not in page  # only once it is required


def test_ticking_the_box_requires_2fa_and_is_audited(
    administrator_with_sms, administrator_with_sms_client
):
    response = administrator_with_sms_client.post(
        POLICY, {"require_two_factor": "on", "two_factor_grace_days": "7"}
    )

    assert response["Location"] == ACCOUNT
    assert policy_of(administrator_with_sms.organization) == (True, 7)
    event = AuditEvent.objects.get(event=Event.POLICY_CHANGED)
    assert event.detail["require_two_factor"] == {"from": False, "to": True}
    page = text(administrator_with_sms_client.get(ACCOUNT))
    assert "checked" in page
    assert "Required since" in page
    assert "Sign out members without 2FA now" in page


def test_unticking_the_box_ends_the_requirement(
    administrator_with_sms, administrator_with_sms_client
):
    require_two_factor(administrator_with_sms.organization)
    administrator_with_sms_client.post(POLICY, {"two_factor_grace_days": "0"})
    assert policy_of(administrator_with_sms.organization) == (False, 0)


@pytest.mark.parametrize("days", ["91", "-1", "a week", ""])
def test_grace_period_outside_0_to_90_days_is_refused_with_a_clear_message(
    administrator_with_sms, administrator_with_sms_client, days
):
    response = administrator_with_sms_client.post(
        POLICY, {"require_two_factor": "on", "two_factor_grace_days": days}
    )

    assert response.status_code == 200
    assert "Enter a grace period between 0 and 90 days." in text(response)
    assert policy_of(administrator_with_sms.organization) == (False, 0)


def test_administrator_without_2fa_who_ticks_the_box_is_led_through_enrollment_first(
    administrator, sms_outbox
):
    browser = Client()
    browser.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})

    response = browser.post(POLICY, TICKED)

    assert response["Location"] == f"{ENABLE}?next=%2Faccount%2F"
    assert policy_of(administrator.organization) == (False, 0)
    assert "Turn on two-factor authentication for yourself first" in " ".join(
        messages_of(browser.get(response["Location"]))
    )
    browser.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    browser.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    browser.get("/settings/security/2fa/backup-codes/")
    done = browser.post("/settings/security/2fa/backup-codes/", {"saved_backup_codes": "on"})
    assert done["Location"] == ACCOUNT  # back to tick the box
    assert SmsFactor.objects.get(user=administrator.user).phone == MOBILE

    assert browser.post(POLICY, TICKED)["Location"] == ACCOUNT
    assert policy_of(administrator.organization) == (True, 0)


def test_return_to_another_site_after_enrollment_is_ignored(administrator, sms_outbox):
    browser = Client()
    browser.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})
    browser.get(f"{ENABLE}?next=https://evil.test/")
    browser.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    browser.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    browser.get("/settings/security/2fa/backup-codes/")
    done = browser.post("/settings/security/2fa/backup-codes/", {"saved_backup_codes": "on"})
    assert done["Location"] == "/settings/security/"


def test_sign_out_members_without_2fa_now(
    administrator_with_sms, administrator_with_sms_client, member
):
    browser = Client()
    browser.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    require_two_factor(administrator_with_sms.organization)

    response = administrator_with_sms_client.post(SIGN_OUT, follow=True)

    assert "1 member without two-factor authentication was signed out everywhere." in text(response)
    assert browser.get("/api/v1/me").status_code == 401
    assert administrator_with_sms_client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(("path", "data"), [(POLICY, TICKED), (SIGN_OUT, {})])
def test_members_get_403(member_client, administrator, path, data):
    require_two_factor(administrator.organization, grace_days=3)
    response = member_client.post(path, data)
    assert response.status_code == 403
    assert policy_of(administrator.organization) == (True, 3)


def test_asvs_7_5_1_security_policy_changes_require_recent_authentication(administrator_with_sms):
    """Without a recent authentication the policy form leads to re-authentication, then the
    change resumes."""
    stale = signed_in(Client(), administrator_with_sms)  # no authentication within 5 minutes

    asked = stale.post(POLICY, {"require_two_factor": "on", "two_factor_grace_days": "7"})

    assert asked["Location"] == f"/accounts/reauthenticate/?next={POLICY.replace('/', '%2F')}"
    assert policy_of(administrator_with_sms.organization) == (False, 0)
    resumed = stale.post(f"/accounts/reauthenticate/?next={POLICY}", {"password": PASSWORD})
    assert resumed["Location"] == ACCOUNT
    assert policy_of(administrator_with_sms.organization) == (True, 7)


def test_the_policy_and_the_methods_are_one_form_with_one_button(administrator_client):
    page = text(administrator_client.get(ACCOUNT))
    panel = page[page.index('id="mandatory-heading"') : page.index('id="sso-heading"')]
    form = panel[panel.index("<form") : panel.index("</form>")]
    assert 'name="require_two_factor"' in form
    assert 'name="allowed_two_factor_methods" value="sms"' in form
    assert 'name="allow_remembered_devices"' in form
    assert form.count('type="submit"') == 1
    assert "Save the methods" not in page


def test_ticking_the_box_and_unticking_sms_saves_both(
    administrator_with_sms, administrator_with_sms_client
):
    response = administrator_with_sms_client.post(
        POLICY,
        {
            **TICKED,
            "method_policy": "1",
            "allowed_two_factor_methods": ["totp", "webauthn"],
            "allow_remembered_devices": "on",
        },
    )

    assert response["Location"] == ACCOUNT
    assert policy_of(administrator_with_sms.organization) == (True, 0)
    saved = Organization.objects.get(pk=administrator_with_sms.organization_id)
    assert "sms" not in policy.allowed_methods_of(saved)


def test_a_refused_method_policy_saves_nothing(
    administrator_with_sms, administrator_with_sms_client
):
    refused = administrator_with_sms_client.post(
        POLICY, {**TICKED, "method_policy": "1", "allowed_two_factor_methods": ["webauthn"]}
    )

    assert refused.status_code == 200
    assert "allow an authenticator app or SMS too" in text(refused)
    assert policy_of(administrator_with_sms.organization) == (False, 0)
