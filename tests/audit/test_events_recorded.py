"""Every security event is audited (ASVS 16.3.1-16.3.3), driven through the real pages and API.

Each event names who acted, on whom, the account, where from (IP and user agent) and, for
authentication, the factor. Failure events outlive the failing flow; no event carries a secret.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client, RequestFactory

from tests.conftest import MOBILE, PASSWORD
from tests.sms.fakes import closed_port_url
from twofold.audit import context
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.config.sms import WebhookSettings
from twofold.errors import Unavailable
from twofold.organizations.models import Invitation, Membership
from twofold.sms.delivery import send_sms
from twofold.users.models import User

IP = "192.0.2.44"
AGENT = "Mozilla/5.0 (audit test)"
NEW_PASSWORD = "an entirely new passphrase"
SECOND_FACTOR = "/accounts/2fa/"
BACKUP_CODE = "/accounts/2fa/backup-code/"
SETTINGS = "/settings/security/"
ENABLE = "/settings/security/2fa/enable/"
CONFIRM = "/settings/security/2fa/confirm/"
BACKUP_CODES = "/settings/security/2fa/backup-codes/"
SHOWN_CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")


def browser() -> Client:
    return Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)


def signed_in_browser(membership: Membership) -> Client:
    client = browser()
    client.force_login(membership.user)
    return client


def password_step(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password})


def sign_in(client: Client, email: str, sms_outbox: Any = None) -> Client:
    if password_step(client, email)["Location"] == SECOND_FACTOR:
        client.post(SECOND_FACTOR, {"code": sms_outbox.last_code()})
    assert client.get("/api/v1/me").status_code == 200
    return client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def only(event: Event) -> AuditEvent:
    entries = list(AuditEvent.objects.filter(event=event))
    assert len(entries) == 1, f"{event}: {len(entries)} events"
    return entries[0]


def assert_recorded(
    event: Event,
    subject: Membership | None,
    *,
    actor: Membership | None = None,
    factor: str | None = None,
) -> AuditEvent:
    """The single ``event`` names subject, actor, account and this browser's origin."""
    entry = only(event)
    actor = actor or subject
    assert entry.subject == (subject.user if subject else None)
    assert entry.actor == (actor.user if actor else None)
    assert entry.organization == (actor or subject).organization
    assert (entry.ip, entry.user_agent) == (IP, AGENT)
    if factor is not None:
        assert entry.factor == factor
    return entry


@pytest.fixture
def sms_provider_down(settings: Any) -> None:
    """The only SMS gateway is a webhook on a port where nothing listens."""
    webhook = WebhookSettings(closed_port_url(), {"to": "{to}", "body": "{body}"}, None, None)
    sms = dataclasses.replace(
        settings.TWOFOLD.sms, gateways=("webhook",), timeout=0.5, webhook=webhook
    )
    settings.TWOFOLD = dataclasses.replace(settings.TWOFOLD, sms=sms)


# --- Sign-in and sign-out (ASVS 16.3.1) ----------------------------------------------------------


def test_asvs_16_3_1_password_sign_in_is_audited_with_its_factor(member):
    sign_in(browser(), member.user.email)
    entry = assert_recorded(Event.SIGN_IN_SUCCEEDED, member, factor="pwd")
    assert entry.detail == {"aal": "aal1"}


def test_asvs_16_3_1_sign_in_with_sms_is_audited_once_with_both_factors(
    member_with_sms, sms_outbox
):
    client = browser()
    password_step(client, member_with_sms.user.email)
    assert not AuditEvent.objects.filter(event=Event.SIGN_IN_SUCCEEDED).exists()  # not yet
    client.post(SECOND_FACTOR, {"code": sms_outbox.last_code()})
    entry = assert_recorded(Event.SIGN_IN_SUCCEEDED, member_with_sms, factor="pwd+sms")
    assert entry.detail == {"aal": "aal2"}


def test_asvs_16_3_1_sign_in_through_the_api_is_audited(member):
    app = Client(REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    response = app.post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": member.user.email, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert_recorded(Event.SIGN_IN_SUCCEEDED, member, factor="pwd")


def test_asvs_16_3_1_wrong_password_is_audited_under_the_member(member):
    response = password_step(browser(), member.user.email, "not my password")
    assert response.status_code == 200  # the flow failed; its event is kept
    entry = assert_recorded(Event.SIGN_IN_FAILED, member, factor="password")
    assert entry.detail == {}
    assert not AuditEvent.objects.filter(event=Event.SIGN_IN_SUCCEEDED).exists()


def test_wrong_password_at_reauthentication_is_audited_as_such(member):
    client = signed_in_browser(member)
    client.post("/accounts/reauthenticate/", {"password": "not my password"})
    entry = assert_recorded(Event.SIGN_IN_FAILED, member, factor="password")
    assert entry.detail == {"reauthentication": True}


def test_failure_for_an_unknown_address_is_kept_for_the_operator_outside_any_account(member):
    password_step(browser(), "nobody@example.com", "a guess")
    entry = only(Event.SIGN_IN_FAILED)
    assert (entry.subject, entry.actor, entry.organization) == (None, None, None)
    assert entry.detail == {"email": "n***@example.com"}
    assert (entry.ip, entry.user_agent, entry.factor) == (IP, AGENT, "password")


def test_asvs_16_3_1_wrong_sms_code_is_audited_with_its_factor(member_with_sms, sms_outbox):
    client = browser()
    password_step(client, member_with_sms.user.email)
    response = client.post(SECOND_FACTOR, {"code": wrong(sms_outbox.last_code())})
    assert response.status_code == 200
    entry = assert_recorded(Event.SECOND_FACTOR_FAILED, member_with_sms, factor="sms")
    assert entry.detail == {"purpose": "sign_in"}


def test_asvs_16_3_1_wrong_backup_code_is_audited_with_its_factor(member_with_sms):
    client = browser()
    password_step(client, member_with_sms.user.email)
    client.post(BACKUP_CODE, {"code": "AAAA-BBBB-CCCCC"})
    assert_recorded(Event.SECOND_FACTOR_FAILED, member_with_sms, factor="backup_code")


def test_backup_code_sign_in_is_audited_with_the_codes_left(member_with_sms):
    client = browser()
    password_step(client, member_with_sms.user.email)
    client.post(BACKUP_CODE, {"code": member_with_sms.backup_codes[0]})
    used = assert_recorded(Event.BACKUP_CODE_USED, member_with_sms, factor="backup_code")
    assert used.detail == {"remaining": 9}
    assert_recorded(Event.SIGN_IN_SUCCEEDED, member_with_sms, factor="pwd+otp")


def test_second_factor_lockout_is_audited_and_emailed(member_with_sms, sms_outbox, settings):
    settings.TWOFOLD = dataclasses.replace(settings.TWOFOLD, second_factor_failure_limit=2)
    client = browser()
    password_step(client, member_with_sms.user.email)
    for _ in range(2):
        client.post(SECOND_FACTOR, {"code": wrong(sms_outbox.last_code())})
    entry = assert_recorded(Event.SECOND_FACTOR_LOCKED, member_with_sms)
    assert entry.detail == {"failures": 2, "locked_for_seconds": 60}
    assert any("paused" in message.subject for message in mail.outbox)


def test_sign_out_is_audited(member):
    client = sign_in(browser(), member.user.email)
    client.post("/accounts/logout/")
    assert_recorded(Event.SIGNED_OUT, member)


# --- Passwords -----------------------------------------------------------------------------------


def test_asvs_6_3_7_password_change_is_audited_and_emailed(member):
    response = signed_in_browser(member).post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_recorded(Event.PASSWORD_CHANGED, member)
    assert [m.subject for m in mail.outbox] == ["[Twofold] Password Changed"]
    assert mail.outbox[0].to == [member.user.email]


def test_asvs_6_3_7_password_reset_is_audited_and_emailed(member):
    client = browser()
    client.post("/accounts/password/reset/", {"email": member.user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    assert link is not None
    form = client.get(link.group(0), follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link.group(0)
    client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert_recorded(Event.PASSWORD_RESET, member)
    assert "Your password has been reset." in mail.outbox[-1].body
    assert mail.outbox[-1].to == [member.user.email]


# --- Second factors ------------------------------------------------------------------------------


def enroll_through_the_pages(client: Client, sms_outbox: Any) -> list[str]:
    client.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    client.post(CONFIRM, {"code": sms_outbox.last_code()})
    codes = SHOWN_CODE.findall(client.get(BACKUP_CODES).content.decode())
    assert client.post(BACKUP_CODES, {"saved_backup_codes": "on"})["Location"] == SETTINGS
    return codes


def test_two_factor_enabled_is_audited_with_the_masked_number(member, sms_outbox):
    enroll_through_the_pages(sign_in(browser(), member.user.email), sms_outbox)
    entry = assert_recorded(Event.TWO_FACTOR_ENABLED, member, factor="sms")
    assert entry.detail == {"masked_phone": "+41 •• ••• •• 67"}


def test_phone_change_regeneration_and_disabling_are_audited(member_with_sms, sms_outbox):
    client = sign_in(browser(), member_with_sms.user.email, sms_outbox)
    client.post(
        "/settings/security/2fa/change-number/", {"country": "CH", "phone": "078 111 22 33"}
    )
    client.post(CONFIRM, {"code": sms_outbox.last_code("+41781112233")})
    client.post("/settings/security/2fa/backup-codes/new/")
    client.post("/settings/security/2fa/disable/")

    changed = assert_recorded(Event.PHONE_CHANGED, member_with_sms, factor="sms")
    assert changed.detail == {"masked_phone": "+41 •• ••• •• 33"}
    assert_recorded(Event.BACKUP_CODES_REGENERATED, member_with_sms, factor="backup_code")
    assert_recorded(Event.TWO_FACTOR_DISABLED, member_with_sms, factor="sms")


# --- SMS delivery failures -----------------------------------------------------------------------


def test_sms_send_failure_is_audited_without_the_number(member, sms_provider_down):
    client = sign_in(browser(), member.user.email)
    response = client.post(ENABLE, {"country": "CH", "phone": "079 123 45 67"})
    assert response.status_code == 200  # the page says the text could not be sent
    entry = assert_recorded(Event.SMS_SEND_FAILED, member)
    assert entry.detail["gateway"] == "webhook"
    assert entry.detail["error"]
    assert entry.detail["masked_phone"] == "+41 •• ••• •• 67"
    assert entry.detail["purpose"] == "enroll"
    assert "791234567" not in json.dumps(entry.detail)


def test_sms_failure_event_survives_the_rollback_of_the_callers_transaction(
    member, sms_provider_down
):
    request = RequestFactory().post("/", REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    with context.from_request(request), pytest.raises(Unavailable), transaction.atomic():
        send_sms(MOBILE, "Your code", purpose="sign_in", user=member.user)
    assert_recorded(Event.SMS_SEND_FAILED, member)


# --- The account and its members -----------------------------------------------------------------


def test_invitation_sent_accepted_and_revoked_are_audited(administrator):
    admin = signed_in_browser(administrator)
    admin.post("/account/members/", {"email": "carol@example.test", "role": "member"})
    admin.post("/account/members/", {"email": "dave@example.test", "role": "member"})
    link = re.search(r"/invitations/([^/\s]+)/", mail.outbox[0].body)
    assert link is not None
    dave = Invitation.objects.get(email="dave@example.test")
    admin.post(f"/account/invitations/{dave.pk}/revoke")
    browser().post(link.group(0), {"name": "Carol", "password": NEW_PASSWORD})

    sent = AuditEvent.objects.filter(event=Event.INVITATION_SENT).order_by("id")
    assert [e.detail["email"] for e in sent] == ["carol@example.test", "dave@example.test"]
    assert {(e.actor, e.subject, e.organization) for e in sent} == {
        (administrator.user, None, administrator.organization)
    }
    revoked = only(Event.INVITATION_REVOKED)
    assert (revoked.actor, revoked.detail) == (administrator.user, {"email": "dave@example.test"})
    carol = Membership.objects.get(user__email="carol@example.test")
    accepted = assert_recorded(Event.INVITATION_ACCEPTED, carol)
    assert accepted.detail == {"email": "carol@example.test", "role": "member"}


def test_role_change_is_audited_with_both_roles(administrator, member):
    signed_in_browser(administrator).post(
        f"/account/members/{member.pk}/role", {"role": "administrator"}
    )
    entry = assert_recorded(Event.ROLE_CHANGED, member, actor=administrator)
    assert entry.detail == {"from": "member", "to": "administrator"}


def test_deactivation_and_reactivation_are_audited(administrator, member):
    admin = signed_in_browser(administrator)
    admin.post(f"/account/members/{member.pk}/deactivate")
    admin.post(f"/account/members/{member.pk}/reactivate")
    assert_recorded(Event.MEMBER_DEACTIVATED, member, actor=administrator)
    assert_recorded(Event.MEMBER_REACTIVATED, member, actor=administrator)


def test_deactivated_member_signing_in_is_audited_as_a_failure(administrator, member):
    signed_in_browser(administrator).post(f"/account/members/{member.pk}/deactivate")
    password_step(browser(), member.user.email)
    assert only(Event.SIGN_IN_FAILED).detail == {"deactivated": True}
    assert not AuditEvent.objects.filter(event=Event.SIGN_IN_SUCCEEDED).exists()


# --- No secrets (ASVS 16.2.5) --------------------------------------------------------------------


def audit_text() -> str:
    """Every audit row as text, but its timestamp (whose microseconds could look like a code)."""
    rows = AuditEvent.objects.values()
    return "\n".join(
        json.dumps({k: v for k, v in row.items() if k != "created_at"}, default=str) for row in rows
    )


def test_no_audit_event_carries_a_code_a_password_or_a_full_number(member, sms_outbox):
    client = sign_in(browser(), member.user.email)
    backup_codes = enroll_through_the_pages(client, sms_outbox)
    client.post("/accounts/logout/")
    password_step(browser(), member.user.email, "my wrong guess 123")
    again = browser()
    password_step(again, member.user.email)
    again.post(SECOND_FACTOR, {"code": wrong(sms_outbox.last_code())})
    again.post(SECOND_FACTOR, {"code": sms_outbox.last_code()})
    spend = browser()
    password_step(spend, member.user.email)
    spend.post(BACKUP_CODE, {"code": backup_codes[0]})

    events = set(AuditEvent.objects.values_list("event", flat=True))
    assert {Event.TWO_FACTOR_ENABLED, Event.SECOND_FACTOR_FAILED, Event.BACKUP_CODE_USED} <= events
    sms_codes = [m["body"].rsplit("#", 1)[1].strip() for m in sms_outbox.messages()]
    secrets = [PASSWORD, "my wrong guess 123", MOBILE, MOBILE[3:], *sms_codes]
    secrets += backup_codes + [code.replace("-", "") for code in backup_codes]
    logged = audit_text()
    assert [secret for secret in secrets if secret in logged] == []
    assert User.objects.get(pk=member.user.pk).check_password(PASSWORD)
