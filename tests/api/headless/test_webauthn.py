"""Signing in with security keys and passkeys in allauth's headless API (api/headless/webauthn.py):
a key as the second factor, a passkey as both."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import PASSWORD, require_two_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from tests.factors.webauthn.test_flows import give_key
from twofold.factors import methods
from twofold.factors.lockout import SecondFactorFailures
from twofold.sessions import assurance

BROWSER = "/_allauth/browser/v1"


def headless(client: Client, path: str, body: dict | None = None) -> Any:
    if body is None:
        return client.get(f"{BROWSER}{path}")
    return client.post(f"{BROWSER}{path}", json.dumps(body), content_type="application/json")


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


def test_api_passkey_sign_in_is_refused_when_the_account_no_longer_allows_keys(member):
    token = give_key(member.user)
    member.organization.allowed_two_factor_methods = [methods.TOTP, methods.SMS]
    member.organization.save(update_fields=["allowed_two_factor_methods"])
    client = Client()
    options = headless(client, "/auth/passkey").json()["data"]["request_options"]
    refused = headless(client, "/auth/passkey", {"credential": token.get(options)})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "two_factor_method_not_allowed"
    assert not assurance.records(client.session, member.user)
