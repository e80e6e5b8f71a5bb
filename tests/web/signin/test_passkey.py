"""Security keys and passkeys on the sign-in pages (web/signin/passkey.py): the second-factor step
with a key, and "Sign in with a passkey" on the login page (the browser's part is played by the
soft token)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import PASSWORD, give_sms_factor
from tests.factors.webauthn.test_flows import give_key
from twofold.factors import methods
from twofold.sessions import assurance
from twofold.sso.models import AccountSso


def signed_in_user(client: Client) -> Any:
    return client.get("/api/v1/me").json()["data"]


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
