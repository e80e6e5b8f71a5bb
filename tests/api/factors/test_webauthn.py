"""Security keys and passkeys in the JSON API (api/factors/webauthn.py): registering, listing,
renaming, removing them."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import freshly_signed_in, give_sms_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from tests.factors.webauthn.test_flows import give_key


def api(client: Client, method: str, path: str, body: dict | None = None) -> Any:
    return client.generic(
        method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
    )


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
    # The backup codes and the activation: tests/factors/test_activation.py.
    api(client, "POST", "/two-factor/webauthn/backup-codes")
    active = api(client, "POST", "/two-factor/webauthn/activate", {"saved_backup_codes": True})
    data = active.json()["data"]
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


def test_rfc_9470_a_stale_session_hears_what_would_be_enough(member):
    """The 401 says, as an RFC 9470 challenge, that a fresh sign-in (or a fresh second factor,
    aal2) within the re-authentication window would do."""
    client = Client()
    client.force_login(member.user)
    stale = api(client, "POST", "/two-factor/webauthn", {})
    assert stale["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A stronger or more recent authentication is required", max_age=300'
    )
    give_sms_factor(member)
    password_only = freshly_signed_in(Client(), member)
    weak = api(password_only, "POST", "/two-factor/webauthn", {})
    assert 'acr_values="urn:twofold:aal2"' in weak["WWW-Authenticate"]
    assert "max_age=300" in weak["WWW-Authenticate"]
