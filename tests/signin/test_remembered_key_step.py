""" "Remember this device for 30 days" after a security key at the second step, as after a code
(web/signin/passkey.py, api/headless/webauthn.py, signin/remembered.py)."""

from __future__ import annotations

import json

from django.test import Client

from tests.conftest import PASSWORD
from tests.factors.webauthn.test_flows import give_key
from twofold.signin import remembered
from twofold.signin.models import RememberedDevice

SECOND_STEP = "/accounts/2fa/"
KEY_OPTIONS = "/_allauth/browser/v1/auth/2fa/webauthn"
COOKIE = remembered.COOKIE_NAME


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def allow_remembering(membership, allowed: bool) -> None:
    membership.organization.allow_remembered_devices = allowed
    membership.organization.save(update_fields=["allow_remembered_devices"])


def key_answer(client: Client, token) -> str:
    options = client.get(KEY_OPTIONS).json()["data"]["request_options"]
    return json.dumps(token.get(options))


def test_key_step_page_offers_remember_this_device_and_skips_the_next_second_step(member):
    token = give_key(member.user)
    client = Client()
    assert password_step(client, member.user.email)["Location"] == SECOND_STEP
    page = client.get(SECOND_STEP).content.decode()
    assert 'data-webauthn="get"' in page
    assert "Remember this device for 30 days" in page
    done = client.post(
        SECOND_STEP, {"credential": key_answer(client, token), "remember_device": "on"}
    )
    assert done["Location"] == "/"
    assert COOKIE in done.cookies
    assert RememberedDevice.objects.filter(user=member.user).count() == 1

    client.post("/accounts/logout/")
    assert password_step(client, member.user.email)["Location"] == "/"  # no second step


def test_key_step_page_without_the_box_remembers_nothing(member):
    token = give_key(member.user)
    client = Client()
    password_step(client, member.user.email)
    done = client.post(SECOND_STEP, {"credential": key_answer(client, token)})
    assert done["Location"] == "/"
    assert COOKIE not in done.cookies
    assert not RememberedDevice.objects.exists()


def test_key_step_page_honours_the_account_turning_remembering_off(member):
    token = give_key(member.user)
    allow_remembering(member, False)
    client = Client()
    password_step(client, member.user.email)
    assert "Remember this device" not in client.get(SECOND_STEP).content.decode()
    done = client.post(
        SECOND_STEP, {"credential": key_answer(client, token), "remember_device": "on"}
    )
    assert done["Location"] == "/"
    assert COOKIE not in done.cookies
    assert not RememberedDevice.objects.exists()


def api_post(client: Client, path: str, body: dict):
    return client.post(
        f"/_allauth/browser/v1{path}", json.dumps(body), content_type="application/json"
    )


def test_api_key_step_remembers_the_browser_when_asked(member):
    token = give_key(member.user)
    client = Client()
    login = api_post(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    assert login.status_code == 401
    answer = json.loads(key_answer(client, token))
    done = api_post(client, "/auth/2fa/webauthn", {"credential": answer, "remember_device": True})
    assert done.status_code == 200, done.content
    assert COOKIE in done.cookies
    assert RememberedDevice.objects.filter(user=member.user).count() == 1


def test_api_key_step_honours_the_account_turning_remembering_off(member):
    token = give_key(member.user)
    allow_remembering(member, False)
    client = Client()
    api_post(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    answer = json.loads(key_answer(client, token))
    done = api_post(client, "/auth/2fa/webauthn", {"credential": answer, "remember_device": True})
    assert done.status_code == 200, done.content
    assert COOKIE not in done.cookies
    assert not RememberedDevice.objects.exists()


def test_api_key_step_without_remember_device_remembers_nothing(member):
    token = give_key(member.user)
    client = Client()
    api_post(client, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    answer = json.loads(key_answer(client, token))
    done = api_post(client, "/auth/2fa/webauthn", {"credential": answer})
    assert done.status_code == 200, done.content
    assert COOKIE not in done.cookies
