"""Re-authentication with the SMS second factor, before binding a new number (pages and API)."""

from __future__ import annotations

import json
from dataclasses import replace
from unittest import mock

from django.test import Client

from tests.conftest import PASSWORD
from twofold.errors import Unavailable

PAGE = "/accounts/2fa/reauthenticate/"
API = "/_allauth/browser/v1/auth/2fa/reauthenticate"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def post(client: Client, body: dict | None = None):
    return client.post(API, json.dumps(body or {}), content_type="application/json")


def signed_in(email: str, sms_outbox=None) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    if response["Location"] == "/accounts/2fa/":
        client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    return client


def test_api_reauthentication_without_two_factor_is_a_409_with_a_code(member, sms_outbox):
    client = signed_in(member.user.email)
    response = post(client)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "two_factor_off"
    refused = post(client, {"code": "123456"})
    assert refused.status_code == 409
    assert sms_outbox.messages() == []


def test_api_reauthentication_code_that_is_not_six_digits_is_a_400(member_with_sms, sms_outbox):
    client = signed_in(member_with_sms.user.email, sms_outbox)
    for typed in ("abcdef", "12345"):
        response = post(client, {"code": typed})
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert (error["code"], error["param"]) == ("code_format", "code")
    assert len(sms_outbox.messages()) == 1  # the sign-in code only: nothing was sent


def test_api_after_five_wrong_tries_a_new_reauthentication_code_works(
    member_with_sms, sms_outbox, settings
):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)
    client = signed_in(member_with_sms.user.email, sms_outbox)
    assert post(client).status_code == 202
    first = sms_outbox.last_code()
    for _ in range(5):
        assert post(client, {"code": wrong(first)}).status_code == 400
    assert post(client, {"code": first}).json()["errors"][0]["code"] == "code_exhausted"
    assert post(client).status_code == 202
    assert post(client, {"code": sms_outbox.last_code()}).status_code == 200


def test_page_after_five_wrong_tries_a_new_code_works(member_with_sms, sms_outbox, settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)
    client = signed_in(member_with_sms.user.email, sms_outbox)
    client.post(PAGE, {"resend": "1"})
    first = sms_outbox.last_code()
    for _ in range(5):
        client.post(PAGE, {"code": wrong(first)})
    client.post(PAGE, {"resend": "1"})
    done = client.post(PAGE, {"code": sms_outbox.last_code(), "next": "/settings/security/"})
    assert done.status_code == 302
    assert done["Location"] == "/settings/security/"


def test_page_does_not_say_a_code_was_sent_when_sending_failed(member_with_sms, sms_outbox):
    client = signed_in(member_with_sms.user.email, sms_outbox)
    down = Unavailable("We could not send the text message right now.", code="sms_unavailable")
    with mock.patch("twofold.factors.sms.codes.send_sms", side_effect=down):
        page = client.post(PAGE, {"resend": "1"}).content.decode()
    assert "We could not send the text message right now." in page
    assert "We sent a code" not in page
    again = client.post(PAGE, {"resend": "1"}).content.decode()  # the provider is back
    assert "We sent a code" in again
    assert len(sms_outbox.messages()) == 2


def test_page_says_a_code_was_sent_when_it_was(member_with_sms, sms_outbox):
    client = signed_in(member_with_sms.user.email, sms_outbox)
    page = client.post(PAGE, {"resend": "1"}).content.decode()
    assert "We sent a code" in page
    assert len(sms_outbox.messages()) == 2
