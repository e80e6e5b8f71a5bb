"""Security keys and passkeys on the pages: the settings page, the second-factor step, and
"Sign in with a passkey" on the login page (the browser's part is played by the soft token)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from tests.factors.webauthn.test_flows import give_key
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import member_factors, methods
from twofold.factors.webauthn import flows
from twofold.sessions import assurance
from twofold.sso.models import AccountSso

KEYS = "/settings/security/2fa/webauthn/"


def creation_options(client: Client, *, passkey: bool = True) -> dict[str, Any]:
    """What webauthn.js fetches before ``navigator.credentials.create()``."""
    response = client.post(
        "/api/v1/two-factor/webauthn",
        json.dumps({"passkey": passkey}),
        content_type="application/json",
    )
    return response.json()["data"]["creation_options"]


def signed_in_user(client: Client) -> Any:
    return client.get("/api/v1/me").json()["data"]


def test_settings_page_adds_a_first_key_then_backup_codes(member):
    client = freshly_signed_in(Client(), member)
    page = client.get(KEYS)
    assert b'data-webauthn="create"' in page.content
    assert b"twofold/webauthn.js" in page.content
    credential = SoftAuthenticator().create(creation_options(client))
    added = client.post(KEYS, {"name": "Laptop", "credential": json.dumps(credential)})
    assert added["Location"] == "/settings/security/2fa/webauthn/backup-codes/"
    codes = client.get(added["Location"])
    assert codes.content.count(b"<li") >= 10
    done = client.post(added["Location"], {"saved_backup_codes": "on"})
    assert done["Location"] == "/settings/security/"
    assert member_factors.methods(member.user) == [methods.WEBAUTHN]


def test_settings_page_says_what_went_wrong_with_a_bad_answer(member):
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    options = creation_options(client)
    stranger = SoftAuthenticator(origin="https://evil.example").create(options)
    page = client.post(KEYS, {"name": "Laptop", "credential": json.dumps(stranger)})
    assert page.status_code == 200
    assert b"could not be checked" in page.content
    missing = client.post(KEYS, {"name": "Laptop", "credential": "not json"})
    assert b"follow your browser" in missing.content
    assert flows.keys(member.user) == []


def test_settings_page_renames_and_removes_keys(member):
    give_sms_factor(member)
    give_key(member.user, name="One")
    give_key(member.user, name="Two")
    client = freshly_signed_in(Client(), member)
    one, two = flows.keys(member.user)
    client.post(f"{KEYS}{one.id}/rename/", {"name": "Desk key"})
    client.post(f"{KEYS}{two.id}/remove/")
    assert [k.name for k in flows.keys(member.user)] == ["Desk key"]
    assert b"Desk key" in client.get(KEYS).content
    assert AuditEvent.objects.filter(event=Event.FACTOR_REMOVED, factor="webauthn").exists()


def test_sign_in_page_asks_for_the_key_first_and_signs_in_with_it(member):
    token = give_key(member.user)
    give_sms_factor(member)
    client = Client()
    response = client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/")
    assert b'data-webauthn="get"' in page.content  # the strongest factor is asked first
    assert b"Try another way" in page.content
    options = client.get("/_allauth/browser/v1/auth/2fa/webauthn").json()["data"]
    answer = token.get(options["request_options"])
    done = client.post("/accounts/2fa/", {"credential": json.dumps(answer)})
    assert done["Location"] == "/"
    recorded = assurance.records(client.session, member.user)
    assert assurance.amr(recorded) == ["pwd", "hwk"]


def test_try_another_way_lists_the_security_key(member_with_sms):
    give_key(member_with_sms.user)
    client = Client()
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    client.post("/accounts/2fa/other/", {"method": "sms"})
    others = client.get("/accounts/2fa/other/")
    assert methods.LABELS[methods.WEBAUTHN].encode() in others.content


def test_login_page_offers_a_passkey_and_signs_in_with_it(member):
    token = give_key(member.user)
    client = Client()
    login = client.get("/accounts/login/")
    assert b"Or use a passkey" in login.content
    assert b"Use a passkey" in login.content
    options = client.get("/_allauth/browser/v1/auth/passkey").json()["data"]["request_options"]
    done = client.post("/accounts/2fa/passkey/", {"credential": json.dumps(token.get(options))})
    assert done["Location"] == "/"
    me = signed_in_user(client)
    assert me["user"]["email"] == member.user.email
    assert (me["amr"], me["aal"]) == (["hwk", "user"], "aal2")


def test_a_passkey_sign_in_still_meets_the_sso_required_stage(member):
    token = give_key(member.user)
    AccountSso.objects.create(organization=member.organization, require_sso=True)
    client = Client()
    options = client.get("/_allauth/browser/v1/auth/passkey").json()["data"]["request_options"]
    refused = client.post("/accounts/2fa/passkey/", {"credential": json.dumps(token.get(options))})
    assert refused["Location"] != "/"
    assert client.get("/api/v1/me").status_code == 401


def test_an_earlier_passkey_login_of_the_session_does_not_skip_a_password_logins_second_step(
    member,
):
    token = give_key(member.user)
    AccountSso.objects.create(organization=member.organization, require_sso=True)
    client = Client()
    options = client.get("/_allauth/browser/v1/auth/passkey").json()["data"]["request_options"]
    client.post("/accounts/2fa/passkey/", {"credential": json.dumps(token.get(options))})
    AccountSso.objects.filter(organization=member.organization).update(require_sso=False)
    # The session still holds the refused passkey login's record; the password login is its own.
    response = client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/"
    assert client.get("/api/v1/me").status_code == 401


def test_a_wrong_passkey_answer_on_the_login_page_says_so(member):
    give_key(member.user)
    client = Client()
    client.get("/_allauth/browser/v1/auth/passkey")
    garbage = json.dumps({"id": "AA", "response": {"userHandle": "AA"}})
    refused = client.post("/accounts/2fa/passkey/", {"credential": garbage}, follow=True)
    assert b"could not be checked" in refused.content


def test_keys_page_asks_a_member_with_another_factor_to_confirm_it_before_adding(member):
    give_sms_factor(member)
    page = freshly_signed_in(Client(), member).get(KEYS).content.decode()
    assert "Confirm it is you" in page
    assert "/accounts/2fa/reauthenticate/?next=" in page
    assert 'id="add-key"' not in page
    confirmed = freshly_signed_in(Client(), member, second_factor="sms").get(KEYS)
    assert 'id="add-key"' in confirmed.content.decode()
