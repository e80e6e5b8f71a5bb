"""Members' 2FA in the JSON API: status, the "without 2FA" filter, and an administrator's reset."""

from __future__ import annotations

import json

from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD, age_authentication
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership

MASKED_MOBILE = "+41 •• ••• •• 67"
SMS_ON = {
    "enabled": True,
    "method": "sms",
    "methods": ["sms"],
    "masked_phone": MASKED_MOBILE,
    "backup_codes_left": 10,
}
OFF = {
    "enabled": False,
    "method": None,
    "methods": [],
    "masked_phone": None,
    "backup_codes_left": 0,
}


def post(client: Client, path: str, body: dict | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def reset_path(membership: Membership) -> str:
    return f"/api/v1/members/{membership.pk}/reset-two-factor"


def error_code(response) -> str:
    (error,) = response.json()["errors"]
    return error["code"]


def signed_in_by_password(membership: Membership) -> Client:
    """A browser in which an administrator without 2FA signed in just now."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": membership.user.email, "password": PASSWORD}
    )
    assert response["Location"] == "/"
    return client


def app_signed_in_with_sms(membership: Membership, sms_outbox) -> Client:
    """An app (X-Session-Token) of the member, signed in with password and SMS code."""
    start = post(
        Client(),
        "/_allauth/app/v1/auth/login",
        {"email": membership.user.email, "password": PASSWORD},
    )
    token = start.json()["meta"]["session_token"]
    done = post(
        Client(headers={"X-Session-Token": token}),
        "/_allauth/app/v1/auth/2fa/sms",
        {"code": sms_outbox.last_code()},
    )
    assert done.status_code == 200, done.content
    # allauth hands out a new token once signed in (a new session id at every sign-in).
    return Client(headers={"X-Session-Token": done.json()["meta"].get("session_token", token)})


# --- Status and filter --------------------------------------------------------------------------


def test_members_show_each_members_two_factor_status_to_administrators(
    administrator, member_with_sms, administrator_client
):
    listed = administrator_client.get("/api/v1/members").json()["data"]

    assert {m["email"]: m["two_factor"] for m in listed} == {
        "ada@acme.test": OFF,
        "bob@acme.test": SMS_ON,
    }
    assert "last_login" in listed[0]
    detail = administrator_client.get(f"/api/v1/members/{member_with_sms.pk}").json()["data"]
    assert detail["two_factor"] == SMS_ON


def test_backup_codes_left_counts_only_unused_codes(member_with_sms, administrator_client):
    codes = BackupCode.objects.filter(user=member_with_sms.user)
    codes.filter(pk__in=list(codes.values_list("pk", flat=True)[:3])).update(used_at=clock.now())

    listed = administrator_client.get("/api/v1/members").json()["data"]
    detail = administrator_client.get(f"/api/v1/members/{member_with_sms.pk}").json()["data"]

    assert listed[1]["two_factor"]["backup_codes_left"] == 7
    assert detail["two_factor"]["backup_codes_left"] == 7


def test_members_hide_colleagues_two_factor_from_members(member_with_sms, administrator):
    client = Client()
    client.force_login(member_with_sms.user)

    listed = client.get("/api/v1/members").json()["data"]
    detail = client.get(f"/api/v1/members/{administrator.pk}").json()["data"]

    assert [m["two_factor"] for m in listed] == [None, None]
    assert detail["two_factor"] is None


def test_filter_without_2fa_lists_only_the_members_without_it(
    administrator, member_with_sms, make_member, administrator_client
):
    make_member("cleo@acme.test", organization=administrator.organization)

    listed = administrator_client.get("/api/v1/members?two_factor=off").json()["data"]

    assert [m["email"] for m in listed] == ["ada@acme.test", "cleo@acme.test"]
    assert all(m["two_factor"] == OFF for m in listed)


def test_filter_with_an_unknown_value_is_a_400_naming_the_parameter(administrator_client):
    response = administrator_client.get("/api/v1/members?two_factor=on")

    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "two_factor"
    assert response.json()["errors"][0]["code"] == "invalid_choice"


def test_filter_without_2fa_is_for_administrators_only(member_client):
    response = member_client.get("/api/v1/members?two_factor=off")

    assert response.status_code == 403
    assert error_code(response) == "forbidden"


# --- Reset --------------------------------------------------------------------------------------


def test_reset_removes_the_factor_signs_the_member_out_emails_and_audits(
    administrator, member_with_sms, sms_outbox
):
    app = app_signed_in_with_sms(member_with_sms, sms_outbox)
    assert app.get("/api/v1/me").status_code == 200
    client = signed_in_by_password(administrator)

    response = post(client, reset_path(member_with_sms))

    assert response.status_code == 200
    assert response.json()["data"]["two_factor"] == OFF
    assert not SmsFactor.objects.filter(user=member_with_sms.user).exists()
    assert not BackupCode.objects.filter(user=member_with_sms.user).exists()
    assert not UserSession.objects.filter(user=member_with_sms.user).exists()
    assert app.get("/api/v1/me").status_code == 401
    assert [m.to for m in mail.outbox] == [[member_with_sms.user.email]]
    event = AuditEvent.objects.get(event=Event.TWO_FACTOR_RESET)
    assert (event.actor_email, event.subject_email) == ("ada@acme.test", "bob@acme.test")


def test_reset_needs_the_administrators_recent_authentication(administrator, member_with_sms):
    client = signed_in_by_password(administrator)
    age_authentication(client)

    refused = post(client, reset_path(member_with_sms))

    assert refused.status_code == 401
    assert error_code(refused) == "reauthentication_required"
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()
    assert mail.outbox == []

    again = post(client, "/_allauth/browser/v1/auth/reauthenticate", {"password": PASSWORD})
    assert again.status_code == 200
    assert post(client, reset_path(member_with_sms)).status_code == 200
    assert not SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_member_cannot_reset_a_colleague_even_signed_in_just_now(
    administrator_with_sms, member, sms_outbox
):
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})

    response = post(client, reset_path(administrator_with_sms))

    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert SmsFactor.objects.filter(user=administrator_with_sms.user).exists()


def test_resetting_yourself_is_a_409(administrator_with_sms, sms_outbox):
    client = Client()
    client.post(
        "/accounts/login/", {"login": administrator_with_sms.user.email, "password": PASSWORD}
    )
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})

    response = post(client, reset_path(administrator_with_sms))

    assert response.status_code == 409
    assert error_code(response) == "cannot_reset_self"
    assert SmsFactor.objects.filter(user=administrator_with_sms.user).exists()


def test_resetting_a_member_without_2fa_is_a_409(administrator, member):
    response = post(signed_in_by_password(administrator), reset_path(member))

    assert response.status_code == 409
    assert error_code(response) == "two_factor_off"
    assert mail.outbox == []


def test_resetting_an_unknown_member_is_a_404(administrator):
    response = post(signed_in_by_password(administrator), "/api/v1/members/999999/reset-two-factor")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
