""" "Account & Security" keeps an administrator's intent (``web/account.py``): she ticks
"Mandatory Two-Factor-Authentication" and saves before she has 2FA herself, is led through her
own set-up first, and once it is on the policy she asked for is saved (the activation is as fresh
as saving the policy needs, ASVS 7.5.1). Where it cannot be saved for her, the page comes back
with the box ticked and says it is not saved yet."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import member_factors
from twofold.factors.totp import codes as totp_codes
from twofold.organizations.models import Organization
from twofold.web import account

ACCOUNT = "/account/"
POLICY = "/account/security/"
ENABLE = "/settings/security/2fa/enable/"
CONFIRM = "/settings/security/2fa/confirm/"
SMS_CODES = "/settings/security/2fa/backup-codes/"
TOTP = "/settings/security/2fa/totp/"
TOTP_CODES = "/settings/security/2fa/totp/backup-codes/"
TICKED_7 = {"require_two_factor": "on", "two_factor_grace_days": "7"}
CHECKED = re.compile(r'<input type="checkbox" name="require_two_factor"[^>]* checked>')


def policy_of(organization: Organization) -> tuple[bool, int]:
    saved = Organization.objects.get(pk=organization.pk)
    return saved.require_two_factor, saved.two_factor_grace_days


def said(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def ticked(page: str) -> bool:
    return CHECKED.search(page) is not None


def ask_before_own_2fa(administrator) -> Client:
    """The administrator, signed in by password just now, ticks the box (7 days) and saves."""
    browser = Client()
    browser.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})
    response = browser.post(POLICY, TICKED_7)
    assert response["Location"] == f"{ENABLE}?next=%2Faccount%2F"
    assert policy_of(administrator.organization) == (False, 0)
    browser.get(response["Location"])
    return browser


def test_mandatory_2fa_ticked_before_her_own_2fa_is_saved_once_her_sms_is_on(
    administrator, sms_outbox
):
    browser = ask_before_own_2fa(administrator)
    browser.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    browser.post(CONFIRM, {"code": sms_outbox.last_code()})
    browser.get(SMS_CODES)
    done = browser.post(SMS_CODES, {"saved_backup_codes": "on"})
    assert done["Location"] == ACCOUNT
    assert "mandatory two-factor authentication you asked for is on" in said(done).lower()
    assert policy_of(administrator.organization) == (True, 7)
    event = AuditEvent.objects.get(event=Event.POLICY_CHANGED)
    assert event.detail["require_two_factor"] == {"from": False, "to": True}
    page = browser.get(ACCOUNT).content.decode()
    assert ticked(page)
    assert "Required since" in page
    assert "not saved yet" not in page


def test_mandatory_2fa_ticked_before_her_own_2fa_is_saved_once_her_app_is_on(administrator):
    browser = ask_before_own_2fa(administrator)
    secret = browser.get(TOTP).context["setup"].secret
    browser.post(TOTP, {"code": totp_codes.code_at(secret, clock.now())})
    browser.get(TOTP_CODES)
    done = browser.post(TOTP_CODES, {"saved_backup_codes": "on"})
    assert done["Location"] == ACCOUNT
    assert policy_of(administrator.organization) == (True, 7)


def test_while_her_own_2fa_is_not_on_the_page_keeps_the_box_ticked_and_says_not_saved(
    administrator,
):
    browser = ask_before_own_2fa(administrator)
    page = browser.get(ACCOUNT).content.decode()
    assert ticked(page)
    assert 'value="7"' in page
    assert "not saved yet" in page
    assert "Turn on two-factor authentication for yourself first" in page
    assert policy_of(administrator.organization) == (False, 0)


def test_an_intent_too_old_to_apply_comes_back_ticked_to_save(administrator, sms_outbox):
    browser = ask_before_own_2fa(administrator)
    session = browser.session
    session[account.INTENT]["at"] -= account.INTENT_LIFETIME + 1
    session.save()
    browser.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    browser.post(CONFIRM, {"code": sms_outbox.last_code()})
    browser.get(SMS_CODES)
    browser.post(SMS_CODES, {"saved_backup_codes": "on"})
    assert member_factors.has_second_factor(administrator.user)
    assert policy_of(administrator.organization) == (False, 0)
    page = browser.get(ACCOUNT).content.decode()
    assert ticked(page)
    assert "not saved yet" in page
    assert "Save the policy" in page
    saved = browser.post(POLICY, TICKED_7)
    assert saved["Location"] == ACCOUNT
    assert policy_of(administrator.organization) == (True, 7)
    assert "not saved yet" not in browser.get(ACCOUNT).content.decode()


def test_asvs_7_5_1_the_kept_policy_is_not_saved_from_a_stale_session(administrator):
    """Saving the policy needs a recent authentication: a kept intent is applied only in a
    session as fresh as the page itself asks for."""
    browser = freshly_signed_in(Client(), administrator)
    session = browser.session
    session[account.INTENT] = {
        "user": administrator.user_id,
        "organization": administrator.organization_id,
        "require_two_factor": True,
        "grace_days": 7,
        "at": time.time(),
    }
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= 600
    session["account_authentication_methods"] = records
    session.save()
    request = browser.get(ACCOUNT).wsgi_request
    assert account.apply_kept_policy(request) is False
    assert policy_of(administrator.organization) == (False, 0)


@pytest.mark.parametrize("owner", ["user", "organization"])
def test_an_intent_of_someone_else_is_ignored(administrator, make_member, owner):
    browser = freshly_signed_in(Client(), administrator)
    session = browser.session
    intent = {
        "user": administrator.user_id,
        "organization": administrator.organization_id,
        "require_two_factor": True,
        "grace_days": 7,
        "at": time.time(),
    }
    intent[owner] = -1
    session[account.INTENT] = intent
    session.save()
    page = browser.get(ACCOUNT).content.decode()
    assert not ticked(page)
    assert "not saved yet" not in page
