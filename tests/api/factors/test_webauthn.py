"""Security keys and passkeys in the JSON API: registering, listing, renaming, removing, and
signing in with them (as second factor and as a passkey)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, require_two_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from tests.factors.webauthn.test_flows import give_key
from twofold.factors import methods
from twofold.factors.lockout import SecondFactorFailures
from twofold.sessions import assurance

BROWSER = "/_allauth/browser/v1"


def api(client: Client, method: str, path: str, body: dict | None = None) -> Any:
    return client.generic(
        method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
    )


def headless(client: Client, path: str, body: dict | None = None) -> Any:
    if body is None:
        return client.get(f"{BROWSER}{path}")
    return client.post(f"{BROWSER}{path}", json.dumps(body), content_type="application/json")


def test_api_registers_a_first_key_with_backup_codes(member):
    client = freshly_signed_in(Client(), member)
    started = api(client, "POST", "/two-factor/webauthn", {"passkey": True})
    assert started.status_code == 202
    options = started.json()["data"]["creation_options"]
    assert options["publicKey"]["rp"]["id"] == "testserver"
    assert options["publicKey"]["authenticatorSelection"]["residentKey"] == "required"
    token = SoftAuthenticator()
    body = {"name": "Laptop", "credential": token.create(options)}
    done = api(client, "POST", "/two-factor/webauthn/complete", body)
    assert done.json()["data"]["webauthn_active"] is False
    assert (
        len(api(client, "POST", "/two-factor/webauthn/backup-codes").json()["data"]["codes"]) == 10
    )
    active = api(client, "POST", "/two-factor/webauthn/activate", {"saved_backup_codes": True})
    data = active.json()["data"]
    assert data["methods"] == ["webauthn"]
    assert "other_sessions" in data
    assert [k["name"] for k in data["keys"]] == ["Laptop"]
    assert data["keys"][0]["passkey"] is True


def test_api_registration_needs_a_recent_password(member):
    client = Client()
    client.force_login(member.user)
    response = api(client, "POST", "/two-factor/webauthn", {})
    assert response.json()["errors"][0]["code"] == "reauthentication_required"


def test_api_refuses_a_credential_that_is_not_an_object(member):
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    api(client, "POST", "/two-factor/webauthn", {})
    bad = api(client, "POST", "/two-factor/webauthn/complete", {"name": "x", "credential": [1]})
    assert bad.status_code == 400
    garbage = {"name": "x", "credential": {"id": "AA", "response": {}}}
    refused = api(client, "POST", "/two-factor/webauthn/complete", garbage)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "webauthn_invalid")


def test_api_lists_renames_and_removes_keys(member):
    give_sms_factor(member)
    give_key(member.user, name="One")
    give_key(member.user, name="Two")
    client = freshly_signed_in(Client(), member)
    listed = api(client, "GET", "/two-factor/webauthn").json()["data"]["keys"]
    assert [k["name"] for k in listed] == ["One", "Two"]
    renamed = api(client, "PATCH", f"/two-factor/webauthn/{listed[0]['id']}", {"name": "Desk"})
    assert renamed.json()["data"]["name"] == "Desk"
    empty = api(client, "PATCH", f"/two-factor/webauthn/{listed[0]['id']}", {"name": "  "})
    assert empty.status_code == 400
    removed = api(client, "DELETE", f"/two-factor/webauthn/{listed[1]['id']}").json()["data"]
    assert [k["name"] for k in removed["keys"]] == ["Desk"]
    assert "other_sessions" in removed
    missing = api(client, "DELETE", f"/two-factor/webauthn/{listed[1]['id']}")
    assert missing.json()["errors"][0]["code"] == "webauthn_key_missing"


def test_api_sign_in_with_a_key_as_second_factor_is_aal2_with_hwk(member):
    token = give_key(member.user)
    client = Client()
    login = headless(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    assert login.status_code == 401  # pending: the second factor
    challenge = headless(client, "/auth/2fa/verify").json()["data"]
    assert methods.WEBAUTHN in challenge["methods"]
    options = headless(client, "/auth/2fa/webauthn").json()["data"]["request_options"]
    assert [c["id"] for c in options["publicKey"]["allowCredentials"]]
    done = headless(client, "/auth/2fa/webauthn", {"credential": token.get(options)})
    assert done.status_code == 200, done.content
    recorded = assurance.records(client.session, member.user)
    assert assurance.amr(recorded) == ["pwd", "hwk"]
    assert assurance.session_level(recorded) == "aal2"


def test_api_a_wrong_key_at_sign_in_counts_in_the_lockout(member):
    give_key(member.user)
    client = Client()
    headless(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    options = headless(client, "/auth/2fa/webauthn").json()["data"]["request_options"]
    stranger = SoftAuthenticator()
    stranger.rp_id = "testserver"
    refused = headless(client, "/auth/2fa/webauthn", {"credential": stranger.get(options)})
    assert refused.json()["errors"][0]["code"] == "webauthn_invalid"
    assert SecondFactorFailures.objects.get(user=member.user).consecutive == 1


def test_api_passkey_sign_in_skips_the_second_step_and_meets_mandatory_2fa(member):
    require_two_factor(member.organization)
    token = give_key(member.user)
    client = Client()
    options = headless(client, "/auth/passkey").json()["data"]["request_options"]
    assert options["publicKey"]["allowCredentials"] == []  # discoverable: no user named
    done = headless(client, "/auth/passkey", {"credential": token.get(options)})
    assert done.status_code == 200, done.content
    assert done.json()["meta"]["is_authenticated"] is True
    recorded = assurance.records(client.session, member.user)
    assert assurance.amr(recorded) == ["hwk", "user"]
    assert assurance.session_level(recorded) == "aal2"


def test_api_passkey_sign_in_refuses_a_replayed_answer(member):
    token = give_key(member.user)
    client = Client()
    options = headless(client, "/auth/passkey").json()["data"]["request_options"]
    answer = token.get(options)
    assert headless(client, "/auth/passkey", {"credential": answer}).status_code == 200
    again = headless(Client(), "/auth/passkey", {"credential": answer})
    assert again.json()["errors"][0]["code"] == "webauthn_missing"


def test_api_verify_with_a_code_does_not_take_webauthn_for_a_backup_code(member):
    give_key(member.user)
    client = Client()
    headless(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    refused = headless(client, "/auth/2fa/verify", {"method": "webauthn", "code": "123456"})
    assert refused.status_code == 400
    assert SecondFactorFailures.objects.filter(user=member.user).count() == 0


@pytest.mark.parametrize(
    ("recorded", "amr", "aal"),
    [
        ([{"method": "mfa", "type": "webauthn", "passwordless": True}], ["hwk", "user"], "aal2"),
        ([{"method": "mfa", "type": "webauthn"}], ["hwk"], "aal1"),  # a key alone: one factor
        ([{"method": "password"}, {"method": "mfa", "type": "webauthn"}], ["pwd", "hwk"], "aal2"),
    ],
)
def test_rfc_8176_amr_and_aal_of_security_keys_and_passkeys(recorded, amr, aal):
    assert assurance.amr(recorded) == amr
    assert assurance.session_level(recorded) == aal


def test_adding_a_key_beside_another_factor_needs_that_factor_too(member):
    """Binding a new factor is at aal2 (DESIGN.md, as for a new number): a stolen password
    alone must not add the thief's key."""
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member)  # the password only
    refused = api(client, "POST", "/two-factor/webauthn", {})
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (
        401,
        "reauthentication_required",
    )
    confirmed = freshly_signed_in(Client(), member, second_factor="sms")
    assert api(confirmed, "POST", "/two-factor/webauthn", {}).status_code == 202
