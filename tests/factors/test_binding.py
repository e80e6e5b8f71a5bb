"""Every step of a set-up that binds a factor or shows or replaces backup codes needs the freshness
of its first step (``factors/binding.py::require_fresh_to_bind``; ASVS 7.5.1, DESIGN.md
"re-authentication before any security change"): an enrollment begun fresh and left half-done
cannot be finished later from a session idle past the window. A pending SMS enrollment expires,
and is dropped when another factor is activated. Pages and API alike."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, give_totp_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from twofold import clock
from twofold.errors import FlowError
from twofold.factors import member_factors, methods
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms import flows as sms_flows
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.factors.totp import codes as totp_codes
from twofold.factors.totp import flows as totp_flows
from twofold.factors.webauthn import flows as webauthn_flows

STALE = 600  # seconds: past the 5-minute window (ACCOUNT_REAUTHENTICATION_TIMEOUT)


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


def age(client: Client, seconds: int = STALE) -> None:
    """Every authentication of the session ``seconds`` older: the session idled meanwhile."""
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()


def reauthenticate(client: Client) -> Any:
    """The password again (allauth's headless re-authentication)."""
    body = json.dumps({"password": PASSWORD})
    path = "/_allauth/browser/v1/auth/reauthenticate"
    return client.post(path, body, content_type="application/json")


def confirmed_sms_enrollment(client: Client, sms_outbox: Any) -> None:
    assert post(client, "/two-factor/sms", {"phone": "079 123 45 67"}).status_code == 202
    confirmed = post(client, "/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    assert confirmed.json()["data"]["pending"]["confirmed"] is True


def app_set_up_through_the_api(client: Client) -> tuple[str, list[str]]:
    """A first factor: the authenticator app, confirmed, its backup codes saved, activated."""
    secret = post(client, "/two-factor/totp").json()["data"]["secret"].replace(" ", "")
    code = totp_codes.code_at(secret, clock.now())
    assert post(client, "/two-factor/totp/confirm", {"code": code}).status_code == 200
    saved = post(client, "/two-factor/totp/backup-codes").json()["data"]["codes"]
    active = post(client, "/two-factor/totp/activate", {"saved_backup_codes": True})
    assert active.json()["data"]["methods"] == ["totp"]
    return secret, saved


# --- The case ----------------------------------------------------------------------------


def test_asvs_7_5_1_a_half_done_sms_enrollment_cannot_replace_the_codes_from_a_stale_session(
    member, sms_outbox
):
    """A member confirmed a texted code without finishing, then set up an app; from a session
    idle past the window, SMS cannot be activated nor the saved backup codes replaced."""
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    _, saved = app_set_up_through_the_api(client)
    age(client)
    assert error_of(post(client, "/two-factor/backup-codes")) == (401, "reauthentication_required")
    activate = post(client, "/two-factor/activate", {"saved_backup_codes": True})
    assert error_of(activate) == (401, "reauthentication_required")
    # Even at aal2 again, the half-done number is gone: it went when the app was activated.
    body = json.dumps({"method": "backup_code", "code": saved[0]})
    path = "/_allauth/browser/v1/auth/2fa/reauthenticate"
    assert client.post(path, body, content_type="application/json").status_code == 200
    assert error_of(post(client, "/two-factor/backup-codes")) == (400, "enrollment_missing")
    activate = post(client, "/two-factor/activate", {"saved_backup_codes": True})
    assert error_of(activate) == (400, "enrollment_missing")
    assert member_factors.methods(member.user) == [methods.TOTP]
    assert backup_codes.consume_backup_code(member.user, saved[1]) == 8  # the saved set works


def test_a_pending_sms_enrollment_is_dropped_when_another_factor_is_activated(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    app_set_up_through_the_api(client)
    assert sms_flows.pending(member.user) is None
    assert client.get("/api/v1/two-factor").json()["data"]["pending"] is None


def test_a_pending_sms_enrollment_is_dropped_when_a_key_is_added(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    session = SessionStore()
    rp = webauthn_flows.RelyingParty(id="testserver")
    token = SoftAuthenticator()
    options = webauthn_flows.begin_registration(member.user, session, rp, passkey=False)
    webauthn_flows.complete_registration(member.user, session, rp, "Key", token.create(options))
    webauthn_flows.show_backup_codes(member.user, session)
    webauthn_flows.activate(member.user, session, saved_backup_codes=True)
    assert sms_flows.pending(member.user) is None


def test_a_pending_sms_enrollment_expires(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    began = clock.now() - sms_flows.ENROLLMENT_LIFETIME - timedelta(seconds=1)
    PendingSmsEnrollment.objects.filter(user=member.user).update(created_at=began)
    assert sms_flows.pending(member.user) is None
    with pytest.raises(FlowError) as missing:
        sms_flows.show_backup_codes(member.user)
    assert missing.value.code == "enrollment_missing"
    assert error_of(post(client, "/two-factor/backup-codes")) == (400, "enrollment_missing")
    assert client.get("/api/v1/two-factor").json()["data"]["pending"] is None


def test_a_pending_sms_enrollment_within_its_lifetime_goes_on(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    began = clock.now() - sms_flows.ENROLLMENT_LIFETIME + timedelta(minutes=1)
    PendingSmsEnrollment.objects.filter(user=member.user).update(created_at=began)
    assert len(post(client, "/two-factor/backup-codes").json()["data"]["codes"]) == 10


# --- Every later step: the freshness of the first (API) --------------------------------------


def test_asvs_7_5_1_the_later_steps_of_a_first_number_need_a_recent_authentication(
    member, sms_outbox
):
    client = freshly_signed_in(Client(), member)
    confirmed_sms_enrollment(client, sms_outbox)
    age(client)
    assert error_of(post(client, "/two-factor/backup-codes")) == (401, "reauthentication_required")
    activate = post(client, "/two-factor/activate", {"saved_backup_codes": True})
    assert error_of(activate) == (401, "reauthentication_required")
    again = reauthenticate(client)
    assert again.status_code == 200
    assert len(post(client, "/two-factor/backup-codes").json()["data"]["codes"]) == 10
    done = post(client, "/two-factor/activate", {"saved_backup_codes": True})
    assert done.json()["data"]["methods"] == ["sms"]


def test_asvs_7_5_1_confirming_a_number_needs_a_recent_authentication(member, sms_outbox):
    client = freshly_signed_in(Client(), member)
    assert post(client, "/two-factor/sms", {"phone": "079 123 45 67"}).status_code == 202
    age(client)
    confirmed = post(client, "/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    assert error_of(confirmed) == (401, "reauthentication_required")
    assert sms_flows.pending(member.user).verified_at is None


def test_asvs_7_5_1_confirming_a_number_beside_an_app_needs_the_second_factor_again(
    member, sms_outbox
):
    give_totp_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="totp")
    assert post(client, "/two-factor/sms", {"phone": "079 123 45 67"}).status_code == 202
    session = client.session
    records = session["account_authentication_methods"]
    records[-1]["at"] -= STALE  # the app's code is old now, the password recent
    records.append({"method": "password", "at": time.time()})
    session["account_authentication_methods"] = records
    session.save()
    confirmed = post(client, "/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    assert error_of(confirmed) == (401, "reauthentication_required")
    assert member_factors.methods(member.user) == [methods.TOTP]


def test_asvs_7_5_1_the_later_steps_of_a_first_app_need_a_recent_authentication(member):
    client = freshly_signed_in(Client(), member)
    secret = post(client, "/two-factor/totp").json()["data"]["secret"].replace(" ", "")
    age(client)
    code = totp_codes.code_at(secret, clock.now())
    assert error_of(post(client, "/two-factor/totp/confirm", {"code": code})) == (
        401,
        "reauthentication_required",
    )
    reauthenticate(client)
    assert post(client, "/two-factor/totp/confirm", {"code": code}).status_code == 200
    age(client)
    shown = post(client, "/two-factor/totp/backup-codes")
    assert error_of(shown) == (401, "reauthentication_required")
    activate = post(client, "/two-factor/totp/activate", {"saved_backup_codes": True})
    assert error_of(activate) == (401, "reauthentication_required")
    assert not member_factors.has_second_factor(member.user)


def test_asvs_7_5_1_the_later_steps_of_a_first_key_need_a_recent_authentication(member):
    client = freshly_signed_in(Client(), member)
    options = post(client, "/two-factor/webauthn", {"passkey": False}).json()["data"]
    age(client)
    body = {"name": "Key", "credential": SoftAuthenticator().create(options["creation_options"])}
    completed = post(client, "/two-factor/webauthn/complete", body)
    assert error_of(completed) == (401, "reauthentication_required")
    reauthenticate(client)
    assert post(client, "/two-factor/webauthn/complete", body).status_code == 200
    age(client)
    shown = post(client, "/two-factor/webauthn/backup-codes")
    assert error_of(shown) == (401, "reauthentication_required")
    activate = post(client, "/two-factor/webauthn/activate", {"saved_backup_codes": True})
    assert error_of(activate) == (401, "reauthentication_required")
    assert not member_factors.has_second_factor(member.user)


# --- A first factor's last steps once another factor is on ------------------------------------


def test_a_first_apps_last_steps_are_refused_once_another_factor_is_on(member):
    user, session = member.user, SessionStore()
    setup = totp_flows.start(user, session)
    assert totp_flows.confirm(user, session, totp_codes.code_at(setup.secret, clock.now())) is False
    give_sms_factor(member)  # meanwhile, in another browser: SMS with its backup codes
    kept = set(BackupCode.objects.filter(user=user, active=True).values_list("pk", flat=True))
    with pytest.raises(FlowError) as shown:
        totp_flows.show_backup_codes(user, session)
    assert shown.value.code == "enrollment_missing"
    with pytest.raises(FlowError) as activated:
        totp_flows.activate(user, session, saved_backup_codes=True)
    assert activated.value.code == "enrollment_missing"
    assert set(BackupCode.objects.filter(user=user, active=True).values_list("pk", flat=True)) == (
        kept
    )
    assert member_factors.methods(user) == [methods.SMS]


# --- Pages ---------------------------------------------------------------------------------------

CONFIRM = "/settings/security/2fa/confirm/"
SMS_BACKUP_CODES = "/settings/security/2fa/backup-codes/"
TOTP_BACKUP_CODES = "/settings/security/2fa/totp/backup-codes/"
WEBAUTHN_BACKUP_CODES = "/settings/security/2fa/webauthn/backup-codes/"
KEYS = "/settings/security/2fa/webauthn/"


@pytest.mark.parametrize(
    ("page", "data"),
    [
        (SMS_BACKUP_CODES, None),
        (SMS_BACKUP_CODES, {"saved_backup_codes": "on"}),
        (CONFIRM, {"code": "123456"}),
    ],
)
def test_asvs_7_5_1_the_later_sms_pages_lead_a_stale_session_to_reauthentication(
    member, sms_outbox, page, data
):
    client = freshly_signed_in(Client(), member)
    post(client, "/two-factor/sms", {"phone": "079 123 45 67"})
    if page != CONFIRM:
        post(client, "/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    age(client)
    response = client.get(page) if data is None else client.post(page, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")
    assert not member_factors.has_second_factor(member.user)


@pytest.mark.parametrize("page", [TOTP_BACKUP_CODES, WEBAUTHN_BACKUP_CODES])
def test_asvs_7_5_1_a_first_factors_backup_codes_page_leads_a_stale_session_to_reauthentication(
    member, page
):
    client = freshly_signed_in(Client(), member)
    age(client)
    for response in (client.get(page), client.post(page, {"saved_backup_codes": "on"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauthenticate/?next=")


def test_asvs_7_5_1_adding_a_key_beside_a_factor_on_the_page_needs_that_factor_again(member):
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    options = post(client, "/two-factor/webauthn", {"passkey": False}).json()["data"]
    session = client.session
    records = session["account_authentication_methods"]
    records[-1]["at"] -= STALE
    records.append({"method": "password", "at": time.time()})
    session["account_authentication_methods"] = records
    session.save()
    credential = SoftAuthenticator().create(options["creation_options"])
    response = client.post(KEYS, {"name": "Key", "credential": json.dumps(credential)})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    assert member_factors.methods(member.user) == [methods.SMS]
