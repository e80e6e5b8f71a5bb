"""``/auth/forward/start`` (web/idp/forward_auth.py): a browser turned away by the forward-auth
check signs in, or proves what is missing, and goes back to the application, on a configured
host only."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from tests.conftest import PASSWORD, age_authentication, freshly_signed_in, give_sms_factor

START = "/auth/forward/start"
APP = "https://app.example.test/reports?month=11&year=2026"


@pytest.fixture(autouse=True)
def _app_is_configured(settings) -> None:
    settings.TWOFOLD = replace(settings.TWOFOLD, forward_auth_hosts=("app.example.test",))


def start(**query: str) -> str:
    return f"{START}?{urlencode(query)}"


def sent_to(response, page: str) -> str:
    """The page the browser is sent to; return where that page comes back to (``next``)."""
    assert response.status_code == 302, response.content[:300]
    location = urlsplit(response["Location"])
    assert location.path == page
    return parse_qs(location.query)["next"][0]


def test_a_signed_out_browser_signs_in_then_goes_back_to_the_app(member):
    client = Client()
    back = sent_to(client.get(start(rd=APP)), "/accounts/login/")
    assert back == start(rd=APP)
    signed_in = client.post(
        f"/accounts/login/?{urlencode({'next': back})}",
        {"login": member.user.email, "password": PASSWORD},
    )
    assert signed_in["Location"] == back
    assert client.get(back)["Location"] == APP


def test_a_signed_out_member_with_sms_signs_in_with_the_code_then_goes_back(
    member_with_sms, sms_outbox
):
    client = Client()
    back = sent_to(client.get(start(rd=APP, aal="2")), "/accounts/login/")
    login = f"/accounts/login/?{urlencode({'next': back})}"
    assert (
        client.post(login, {"login": member_with_sms.user.email, "password": PASSWORD})["Location"]
        == "/accounts/2fa/"
    )
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})["Location"] == back
    assert client.get(back)["Location"] == APP


def test_a_session_meeting_the_ask_goes_straight_back(member):
    client = freshly_signed_in(Client(), member, second_factor="sms")
    answer = client.get(start(rd=APP, aal="2", max_age="300", account=str(member.organization_id)))
    assert (answer.status_code, answer["Location"]) == (302, APP)


def test_an_aal1_session_asking_aal2_confirms_the_second_factor_first(member, sms_outbox):
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member)  # the password only, or a remembered browser
    back = sent_to(client.get(start(rd=APP, aal="2")), "/accounts/2fa/reauthenticate/")
    assert back == start(rd=APP, aal="2")
    page = f"/accounts/2fa/reauthenticate/?{urlencode({'next': back, 'method': 'sms'})}"
    client.post(page, {"method": "sms", "resend": "1", "next": back})
    confirmed = client.post(page, {"method": "sms", "code": sms_outbox.last_code(), "next": back})
    assert confirmed["Location"] == back
    assert client.get(back)["Location"] == APP


def test_a_session_older_than_max_age_confirms_the_password_first(member):
    client = age_authentication(freshly_signed_in(Client(), member), 600)
    back = sent_to(client.get(start(rd=APP, max_age="300")), "/accounts/reauthenticate/")
    confirmed = client.post(
        f"/accounts/reauthenticate/?{urlencode({'next': back})}", {"password": PASSWORD}
    )
    assert confirmed["Location"] == back
    assert client.get(back)["Location"] == APP


def test_aal2_asked_of_a_member_without_two_factor_says_to_turn_it_on(member):
    client = freshly_signed_in(Client(), member)
    answer = client.get(start(rd=APP, aal="2"))
    assert answer.status_code == 403
    assert "needs two-factor authentication" in answer.content.decode()
    assert 'href="/settings/security/"' in answer.content.decode()


def test_a_member_of_another_account_is_refused_and_not_sent_anywhere(member, other_administrator):
    client = freshly_signed_in(Client(), member, second_factor="sms")
    answer = client.get(start(rd=APP, account=str(other_administrator.organization_id)))
    assert answer.status_code == 403
    assert "another account" in answer.content.decode()


def test_a_return_address_on_an_unconfigured_host_is_refused_with_a_clear_400(member):
    client = freshly_signed_in(Client(), member, second_factor="sms")
    answer = client.get(start(rd="https://elsewhere.test/"))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "elsewhere.test is not an application Twofold signs you in to" in page
    assert "TWOFOLD_FORWARD_AUTH_HOSTS" in page
    # Refused before the sign-in, too: nobody signs in only to be refused.
    assert Client().get(start(rd="https://elsewhere.test/")).status_code == 400


@pytest.mark.parametrize(
    "rd",
    [
        "//evil.test/",
        "//app.example.test/",
        "https:evil.test",
        "https:/evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "https:\\\\evil.test",
        "https://app.example.test\\@evil.test/",
        "https://app.example.test@evil.test/",
        "https://app.example.test.evil.test/",
        "javascript:alert(document.domain)//app.example.test",
        "/settings/security/",
    ],
)
def test_open_redirect_attempts_are_refused(member, rd):
    client = freshly_signed_in(Client(), member, second_factor="sms")
    answer = client.get(start(rd=rd))
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_without_a_return_address_the_member_lands_on_twofold(member):
    client = freshly_signed_in(Client(), member)
    assert client.get(START)["Location"] == "/"


def test_a_malformed_ask_is_a_400_page(member):
    answer = freshly_signed_in(Client(), member).get(start(rd=APP, aal="3"))
    assert answer.status_code == 400
    assert "aal must be 1 or 2" in answer.content.decode()


def test_the_page_only_answers_safe_methods(member):
    assert freshly_signed_in(Client(), member).post(start(rd=APP)).status_code == 405
