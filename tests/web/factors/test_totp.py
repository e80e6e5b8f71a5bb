"""Setting up, removing and preferring an authenticator app: settings pages and JSON API."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError
from twofold.factors import member_factors
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.models import PreferredFactor
from twofold.factors.reset import reset_two_factor
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import codes, flows

SETTINGS = "/settings/security/"
ENABLE = "/settings/security/2fa/totp/"
BACKUP_CODES = "/settings/security/2fa/totp/backup-codes/"
PREFERRED = "/settings/security/2fa/preferred/"
KEY = re.compile(r'<code class="totp-key">([A-Z2-7 ]+)</code>')


def signed_in(email: str, sms_outbox: Any = None, secret: str | None = None) -> Client:
    """A browser in which the member signed in just now (password, and a second factor)."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    if response["Location"] == "/accounts/2fa/":
        code = codes.code_at(secret, clock.now()) if secret else sms_outbox.last_code()
        response = client.post("/accounts/2fa/", {"code": code})
    assert response["Location"] == "/"
    return client


def key_on(page: bytes) -> str:
    match = KEY.search(page.decode())
    assert match, "no key on the page"
    return match.group(1).replace(" ", "")


def api(client: Client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
    )


def test_setting_up_the_first_factor_shows_qr_key_then_backup_codes(member):
    client = signed_in(member.user.email)
    page = client.get(ENABLE)
    assert page.status_code == 200
    assert b'src="data:image/svg+xml;base64,' in page.content  # no inline script (CSP)
    assert page["Cache-Control"].startswith("max-age=0")
    secret = key_on(page.content)
    assert Authenticator.objects.count() == 0  # nothing active before the confirmation

    response = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())})
    assert response["Location"] == BACKUP_CODES
    shown = client.get(BACKUP_CODES)
    assert shown.content.count(b"<code>") == 10
    # Not before the backup codes are saved.
    assert not member_factors.has_second_factor(member.user)

    done = client.post(BACKUP_CODES, {"saved_backup_codes": "on"})
    assert done["Location"] == SETTINGS
    assert member_factors.methods(member.user) == ["totp"]
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    event = AuditEvent.objects.get(event=Event.TWO_FACTOR_ENABLED)
    assert event.factor == "totp"
    assert "authenticator app" in mail.outbox[-1].body
    assert b"Authenticator app" in client.get(SETTINGS).content


def test_setting_up_needs_a_recent_password(member_client):
    response = member_client.get(ENABLE)
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_a_wrong_code_keeps_the_setup_and_says_why(member):
    client = signed_in(member.user.email)
    secret = key_on(client.get(ENABLE).content)
    wrong = f"{(int(codes.code_at(secret, clock.now())) + 1) % 10**6:06d}"
    page = client.post(ENABLE, {"code": wrong})
    assert page.status_code == 200
    assert b"not right" in page.content
    assert key_on(page.content) == secret  # the same key: the app already has it
    assert b"6 digits" in client.post(ENABLE, {"code": "12"}).content


def test_adding_an_app_beside_sms_keeps_the_one_set_of_backup_codes(member_with_sms, sms_outbox):
    before = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    client = signed_in(member_with_sms.user.email, sms_outbox)
    secret = key_on(client.get(ENABLE).content)
    response = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())})
    assert response["Location"] == SETTINGS  # no second set of backup codes
    assert member_factors.methods(member_with_sms.user) == ["totp", "sms"]
    after = set(BackupCode.objects.filter(user=member_with_sms.user).values_list("pk", flat=True))
    assert after == before
    assert AuditEvent.objects.get(event=Event.FACTOR_ADDED).factor == "totp"
    assert "Authenticator app" in mail.outbox[-1].body


def test_adding_sms_beside_an_app_needs_no_second_set_of_backup_codes(member_with_totp, sms_outbox):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    client.post("/settings/security/2fa/enable/", {"phone": "079 123 45 67", "country": "CH"})
    response = client.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    assert response["Location"] == SETTINGS
    assert member_factors.methods(member_with_totp.user) == ["totp", "sms"]
    assert BackupCode.objects.filter(user=member_with_totp.user, active=False).count() == 0
    assert AuditEvent.objects.get(event=Event.FACTOR_ADDED).factor == "sms"


def test_removing_one_of_two_factors_keeps_2fa_and_backup_codes(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    assert client.get("/settings/security/2fa/totp/remove/").status_code == 200
    response = client.post("/settings/security/2fa/totp/remove/")
    assert response["Location"] == SETTINGS
    assert member_factors.methods(member_with_totp.user) == ["sms"]
    assert BackupCode.objects.filter(user=member_with_totp.user, active=True).count() == 10
    assert AuditEvent.objects.get(event=Event.FACTOR_REMOVED).factor == "totp"


def test_removing_the_last_factor_turns_2fa_off(member_with_totp):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    client.post("/settings/security/2fa/totp/remove/")
    assert not member_factors.has_second_factor(member_with_totp.user)
    assert not BackupCode.objects.filter(user=member_with_totp.user).exists()
    assert AuditEvent.objects.get(event=Event.TWO_FACTOR_DISABLED).factor == "totp"


def test_removing_the_last_factor_is_refused_while_the_account_requires_2fa(
    member_with_totp, account_requiring_2fa
):
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    assert b"cannot be turned off" in client.get("/settings/security/2fa/totp/remove/").content
    client.post("/settings/security/2fa/totp/remove/")
    assert member_factors.methods(member_with_totp.user) == ["totp"]
    assert api(client, "DELETE", "/two-factor/totp").status_code == 403


def test_removing_needs_a_recent_password(member_with_totp, client):
    client.force_login(member_with_totp.user)
    response = client.post("/settings/security/2fa/totp/remove/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert member_factors.methods(member_with_totp.user) == ["totp"]


def test_preferred_factor_is_chosen_among_the_members_own(member_with_totp, client):
    give_sms_factor(member_with_totp)
    client.force_login(member_with_totp.user)
    assert member_factors.preferred(member_with_totp.user) == "totp"  # the strongest by default
    client.post(PREFERRED, {"method": "sms"})
    assert member_factors.preferred(member_with_totp.user) == "sms"
    assert AuditEvent.objects.get(event=Event.PREFERRED_FACTOR_CHANGED).factor == "sms"
    SmsFactor.objects.filter(user=member_with_totp.user).delete()
    assert member_factors.preferred(member_with_totp.user) == "totp"  # what is left
    response = client.post(PREFERRED, {"method": "sms"}, follow=True)
    assert b"methods you have set up" in response.content


def test_api_sets_up_an_app_as_first_factor(member):
    client = signed_in(member.user.email)
    started = api(client, "POST", "/two-factor/totp")
    assert started.status_code == 202
    data = started.json()["data"]
    assert data["otpauth_uri"].startswith("otpauth://totp/")
    assert "issuer=Twofold" in data["otpauth_uri"]
    assert data["qr_code_svg"].startswith("data:image/svg+xml;base64,")
    secret = data["secret"].replace(" ", "")
    assert api(client, "POST", "/two-factor/totp").json()["data"]["secret"] == data["secret"]

    refused = api(client, "POST", "/two-factor/totp/confirm", {"code": "000"})
    assert refused.status_code == 400
    early = api(client, "POST", "/two-factor/totp/backup-codes")
    assert early.json()["errors"][0]["code"] == "totp_not_confirmed"
    confirmed = api(
        client, "POST", "/two-factor/totp/confirm", {"code": codes.code_at(secret, clock.now())}
    )
    assert confirmed.json()["data"]["totp_active"] is False
    assert len(api(client, "POST", "/two-factor/totp/backup-codes").json()["data"]["codes"]) == 10
    unsaved = api(client, "POST", "/two-factor/totp/activate", {"saved_backup_codes": False})
    assert unsaved.json()["errors"][0]["code"] == "backup_codes_not_saved"
    done = api(client, "POST", "/two-factor/totp/activate", {"saved_backup_codes": True})
    status = done.json()["data"]
    assert (status["enabled"], status["method"], status["methods"]) == (True, "totp", ["totp"])
    assert status["totp"]["created_at"]
    again = api(client, "POST", "/two-factor/totp")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (409, "totp_active")


def test_api_setup_needs_a_recent_password(member_client):
    response = api(member_client, "POST", "/two-factor/totp")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "reauthentication_required"


def test_api_chooses_the_preferred_factor_and_removes_one(member_with_totp):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    chosen = api(client, "PUT", "/two-factor/preferred", {"method": "sms"})
    assert chosen.json()["data"]["method"] == "sms"
    bad = api(client, "PUT", "/two-factor/preferred", {"method": "carrier-pigeon"})
    assert bad.status_code == 400
    removed = api(client, "DELETE", "/two-factor/sms")
    assert removed.json()["data"]["methods"] == ["totp"]
    assert removed.json()["data"]["method"] == "totp"
    assert not PreferredFactor.objects.filter(user=member_with_totp.user).exists()
    gone = api(client, "PUT", "/two-factor/preferred", {"method": "sms"})
    assert gone.json()["errors"][0]["code"] == "factor_missing"


def test_turning_2fa_off_removes_every_factor(member_with_totp):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    response = api(client, "DELETE", "/two-factor")
    assert response.json()["data"]["methods"] == []
    assert not Authenticator.objects.filter(user=member_with_totp.user).exists()
    assert not BackupCode.objects.filter(user=member_with_totp.user).exists()


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


def test_confirming_without_a_setup_in_progress_says_start_again(member):
    with pytest.raises(FlowError, match="Start again") as raised:
        flows.confirm(member.user, SessionStore(), "123456")
    assert raised.value.code == "enrollment_missing"


def test_reset_page_says_the_authenticator_app_stops_working(administrator, member_with_totp):
    client = signed_in(administrator.user.email)
    reset_page = f"/account/members/{member_with_totp.pk}/reset-two-factor"
    assert b"Their authenticator app stops working" in client.get(reset_page).content
    assert client.post(reset_page).status_code == 302
    assert member_factors.methods(member_with_totp.user) == []


def test_settings_page_lists_both_factors_with_preferred_and_remove(member_with_totp, client):
    give_sms_factor(member_with_totp)
    client.force_login(member_with_totp.user)
    page = client.get(SETTINGS).content.decode()
    assert "Ask me first for" in page
    assert 'value="totp" checked' in page
    assert "/settings/security/2fa/totp/remove/" in page
    assert "/settings/security/2fa/sms/remove/" in page
    assert "Add an authenticator app" not in page


# --- The offer to end other sessions after a change of factors (ASVS 7.4.3) --------------------

OFFER = "Your sign-in methods changed"


def other_device(email: str, secret: str) -> Client:
    """Signed in with the code of the previous time step (still accepted), so that the code
    of this step stays unused for the next sign-in."""
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    earlier = codes.code_at(secret, clock.now() - timedelta(seconds=30))
    assert client.post("/accounts/2fa/", {"code": earlier})["Location"] == "/"
    return client


def test_asvs_7_4_3_adding_an_app_offers_to_end_the_other_sessions(member_with_sms, sms_outbox):
    email = member_with_sms.user.email
    client = signed_in(email, sms_outbox)
    other = Client()  # within the SMS resend cooldown: with a backup code
    other.post("/accounts/login/", {"login": email, "password": PASSWORD})
    other.post("/accounts/2fa/backup-code/", {"code": member_with_sms.backup_codes[0]})
    secret = key_on(client.get(ENABLE).content)
    done = client.post(ENABLE, {"code": codes.code_at(secret, clock.now())}, follow=True)
    assert OFFER in done.content.decode()
    assert other.get("/api/v1/me").status_code == 200  # only offered, nothing ended


def test_asvs_7_4_3_removing_an_app_offers_it_in_the_page_and_api(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    email, secret = member_with_totp.user.email, member_with_totp.totp_secret
    other_device(email, secret)
    client = signed_in(email, secret=secret)
    done = client.post("/settings/security/2fa/totp/remove/", follow=True)
    assert OFFER in done.content.decode()
    removed = api(client, "DELETE", "/two-factor/sms")
    assert removed.json()["data"]["other_sessions"] == 1


def test_asvs_7_4_3_api_removing_the_app_carries_other_sessions(member_with_totp):
    email, secret = member_with_totp.user.email, member_with_totp.totp_secret
    other_device(email, secret)
    client = signed_in(email, secret=secret)
    removed = api(client, "DELETE", "/two-factor/totp")
    assert removed.status_code == 200
    assert removed.json()["data"]["other_sessions"] == 1


def test_adding_an_app_beside_another_factor_needs_that_factor_too(member_with_sms):
    """Binding a new factor is at aal2 (DESIGN.md, as for a new number): a stolen password
    alone must not add the thief's app."""
    client = freshly_signed_in(Client(), member_with_sms)  # the password only
    page = client.get(ENABLE)
    assert page["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    refused = api(client, "POST", "/two-factor/totp")
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (
        401,
        "reauthentication_required",
    )
    confirmed = freshly_signed_in(Client(), member_with_sms, second_factor="sms")
    assert confirmed.get(ENABLE).status_code == 200
    assert api(confirmed, "POST", "/two-factor/totp").status_code == 202
