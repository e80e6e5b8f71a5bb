"""Re-authentication at aal2 (before binding a phone number) with any of the member's second
factors: a code from the authenticator app, a backup code, a security key, as well as a texted
code (tests/signin/test_reauthentication_sms.py). Pages and API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor
from tests.factors.webauthn.test_flows import give_key
from twofold import clock
from twofold.factors import member_factors
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import codes
from twofold.sessions import assurance

PAGE = "/accounts/2fa/reauthenticate/"
API = "/_allauth/browser/v1/auth/2fa/reauthenticate"
KEY_API = "/_allauth/browser/v1/auth/2fa/reauthenticate/webauthn"
ADD_NUMBER = "/settings/security/2fa/enable/"
CHANGE_NUMBER = "/settings/security/2fa/change-number/"
SMS_API = "/api/v1/two-factor/sms"
NEW_NUMBER = {"country": "CH", "phone": "079 555 66 77"}


def app_code(secret: str) -> str:
    return codes.code_at(secret, clock.now())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def post_json(client: Client, path: str, body: dict | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def fresh_backup_codes(membership) -> list[str]:
    created = backup_codes.create_pending(membership.user)
    backup_codes.activate_pending(membership.user)
    return created


def at_aal2(client: Client, membership) -> bool:
    recorded = assurance.records(client.session, membership.user)
    return recorded[-1]["method"] == "mfa" and recorded[-1].get("reauthenticated") is True


# --- Pages --------------------------------------------------------------------------------------


def test_totp_only_member_adds_a_number_after_confirming_with_the_app(member_with_totp, sms_outbox):
    client = freshly_signed_in(Client(), member_with_totp)  # password only: aal1
    asked = client.get(ADD_NUMBER)
    assert asked.status_code == 302
    assert asked["Location"].startswith(PAGE)
    page = client.get(asked["Location"]).content.decode()
    assert "authenticator app" in page
    assert sms_outbox.messages() == []  # nothing texted: the member has no number
    done = client.post(
        asked["Location"], {"method": "totp", "code": app_code(member_with_totp.totp_secret)}
    )
    assert done["Location"] == ADD_NUMBER
    assert at_aal2(client, member_with_totp)

    started = client.post(ADD_NUMBER, NEW_NUMBER)
    assert started["Location"] == "/settings/security/2fa/confirm/"
    client.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    assert member_factors.methods(member_with_totp.user) == ["totp", "sms"]


def test_page_refuses_a_wrong_app_code_with_a_message(member_with_totp, sms_outbox):
    client = freshly_signed_in(Client(), member_with_totp)
    code = wrong(app_code(member_with_totp.totp_secret))
    refused = client.post(f"{PAGE}?next={ADD_NUMBER}", {"method": "totp", "code": code})
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    assert client.get(ADD_NUMBER)["Location"].startswith(PAGE)  # still not aal2


def test_totp_codes_are_single_use_in_reauthentication_too(member_with_totp):
    """RFC 6238 5.2 / ASVS 6.5.x: an app code accepted once is refused again."""
    client = freshly_signed_in(Client(), member_with_totp)
    code = app_code(member_with_totp.totp_secret)
    first = client.post(f"{PAGE}?next={ADD_NUMBER}", {"method": "totp", "code": code})
    assert first["Location"] == ADD_NUMBER
    again = client.post(f"{PAGE}?next={ADD_NUMBER}", {"method": "totp", "code": code})
    assert again.status_code == 200
    assert "already used" in again.content.decode()


def test_page_accepts_a_backup_code_once(member_with_totp):
    spare = fresh_backup_codes(member_with_totp)
    client = freshly_signed_in(Client(), member_with_totp)
    page = client.get(f"{PAGE}?next={ADD_NUMBER}&method=backup_code").content.decode()
    assert "backup codes you saved" in page
    done = client.post(f"{PAGE}?next={ADD_NUMBER}", {"method": "backup_code", "code": spare[0]})
    assert done["Location"] == ADD_NUMBER
    other = freshly_signed_in(Client(), member_with_totp)
    reused = other.post(f"{PAGE}?next={ADD_NUMBER}", {"method": "backup_code", "code": spare[0]})
    assert reused.status_code == 200
    assert "not right, or was already used" in reused.content.decode()


def test_member_with_app_and_sms_changes_the_number_with_the_app(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    client = freshly_signed_in(Client(), member_with_totp)
    asked = client.get(CHANGE_NUMBER)
    assert asked["Location"].startswith(PAGE)
    page = client.get(asked["Location"]).content.decode()
    assert "authenticator app shows now" in page  # the strongest factor first
    assert "Text message (SMS)" in page  # and the other ways
    assert sms_outbox.messages() == []
    done = client.post(
        asked["Location"], {"method": "totp", "code": app_code(member_with_totp.totp_secret)}
    )
    assert done["Location"] == CHANGE_NUMBER
    started = client.post(CHANGE_NUMBER, NEW_NUMBER)
    assert started["Location"] == "/settings/security/2fa/confirm/"


def test_member_with_app_and_sms_may_choose_the_text_instead(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    client = freshly_signed_in(Client(), member_with_totp)
    page = client.post(
        f"{PAGE}?next={CHANGE_NUMBER}", {"method": "sms", "resend": "1"}
    ).content.decode()
    assert "We sent a code to" in page
    done = client.post(
        f"{PAGE}?next={CHANGE_NUMBER}", {"method": "sms", "code": sms_outbox.last_code()}
    )
    assert done["Location"] == CHANGE_NUMBER


def test_key_only_member_adds_a_number_after_confirming_with_the_key(member, sms_outbox):
    token = give_key(member.user)
    client = freshly_signed_in(Client(), member)
    asked = client.get(ADD_NUMBER)
    page = client.get(asked["Location"]).content.decode()
    assert 'data-webauthn="get"' in page
    assert KEY_API in page
    options = client.get(KEY_API).json()["data"]["request_options"]
    done = client.post(
        asked["Location"], {"method": "webauthn", "credential": json.dumps(token.get(options))}
    )
    assert done["Location"] == ADD_NUMBER
    assert at_aal2(client, member)
    assert client.post(ADD_NUMBER, NEW_NUMBER)["Location"] == "/settings/security/2fa/confirm/"


# --- API ----------------------------------------------------------------------------------------


def test_api_totp_only_member_adds_a_number_after_an_app_code(member_with_totp, sms_outbox):
    client = freshly_signed_in(Client(), member_with_totp)
    refused = post_json(client, SMS_API, {"phone": "079 555 66 77"})
    assert refused.status_code == 401
    assert error_code(refused) == "reauthentication_required"

    ways = client.get(API).json()["data"]
    assert ways == {"method": "totp", "methods": ["totp", "backup_code"], "masked_phone": None}
    nothing = post_json(client, API)
    assert nothing.status_code == 400
    assert error_code(nothing) == "required"
    assert nothing.json()["errors"][0]["param"] == "code"
    assert sms_outbox.messages() == []

    code = app_code(member_with_totp.totp_secret)
    bad = post_json(client, API, {"method": "totp", "code": wrong(code)})
    assert (bad.status_code, error_code(bad)) == (400, "code_invalid")
    done = post_json(client, API, {"method": "totp", "code": code})
    assert done.status_code == 200, done.content
    assert at_aal2(client, member_with_totp)

    started = post_json(client, SMS_API, {"phone": "079 555 66 77"})
    assert started.status_code == 202, started.content


def test_api_without_a_method_uses_the_app_of_a_totp_only_member(member_with_totp):
    client = freshly_signed_in(Client(), member_with_totp)
    done = post_json(client, API, {"code": app_code(member_with_totp.totp_secret)})
    assert done.status_code == 200, done.content


def test_api_accepts_a_backup_code(member_with_totp):
    spare = fresh_backup_codes(member_with_totp)
    client = freshly_signed_in(Client(), member_with_totp)
    done = post_json(client, API, {"method": "backup_code", "code": spare[1]})
    assert done.status_code == 200, done.content
    assert backup_codes.remaining(member_with_totp.user) == len(spare) - 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"method": "sms", "code": "123456"}, 409, "factor_missing"),
        ({"method": "totp", "code": "12ab"}, 400, "code_format"),
        ({"method": "fax", "code": "123456"}, 400, "invalid_choice"),
        ({"method": "webauthn", "code": "123456"}, 400, "invalid_choice"),
    ],
)
def test_api_refuses_a_method_the_member_lacks_or_a_malformed_code(
    member_with_totp, body, status, code
):
    client = freshly_signed_in(Client(), member_with_totp)
    refused = post_json(client, API, body)
    assert refused.status_code == status
    assert error_code(refused) == code
    assert not SmsFactor.objects.exists()


def test_api_key_only_member_confirms_with_the_key(member, sms_outbox):
    token = give_key(member.user)
    client = freshly_signed_in(Client(), member)
    assert client.get(API).json()["data"]["methods"] == ["webauthn", "backup_code"]
    options = client.get(KEY_API).json()["data"]["request_options"]
    done = post_json(client, KEY_API, {"credential": token.get(options)})
    assert done.status_code == 200, done.content
    assert at_aal2(client, member)
    assert post_json(client, SMS_API, {"phone": "079 555 66 77"}).status_code == 202


def test_api_key_reauthentication_of_a_member_without_a_key_is_refused(member_with_totp):
    client = freshly_signed_in(Client(), member_with_totp)
    refused = client.get(KEY_API)
    assert (refused.status_code, error_code(refused)) == (409, "factor_missing")


def test_api_sign_in_verify_names_a_malformed_code_with_code_format(member_with_sms):
    """A 4xx carries a machine-readable code: the 6-digit rule's, not an empty one."""
    client = Client()
    post_json(
        client,
        "/_allauth/browser/v1/auth/login",
        {"email": member_with_sms.user.email, "password": PASSWORD},
    )
    refused = post_json(
        client, "/_allauth/browser/v1/auth/2fa/verify", {"method": "sms", "code": "12ab"}
    )
    assert refused.status_code == 400
    assert error_code(refused) == "code_format"
