"""Two-factor management through the JSON API: same flows and validators as the pages."""

from __future__ import annotations

import json
from unittest import mock

from django.test import Client

from tests.conftest import PASSWORD, age_authentication


def signed_in_by_password(email: str) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    return client


def post(client: Client, path: str, body: dict | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_whole_enrollment_through_the_api(member, sms_outbox):
    client = signed_in_by_password(member.user.email)
    started = post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67", "country": "CH"})
    assert started.status_code == 202, started.content
    assert started.json()["data"]["pending"]["phone"] == "+41 79 123 45 67"
    confirmed = post(client, "/api/v1/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    assert confirmed.json()["data"]["pending"]["confirmed"] is True
    codes = post(client, "/api/v1/two-factor/backup-codes").json()["data"]["codes"]
    assert len(codes) == 10
    refused = post(client, "/api/v1/two-factor/activate", {"saved_backup_codes": False})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "backup_codes_not_saved"
    done = post(client, "/api/v1/two-factor/activate", {"saved_backup_codes": True})
    data = done.json()["data"]
    assert (data["enabled"], data["backup_codes_left"], data["pending"]) == (True, 10, None)
    assert client.get("/api/v1/two-factor").json()["data"]["masked_phone"].startswith("+41")


def test_bad_phone_number_is_a_400_naming_the_field(member):
    client = signed_in_by_password(member.user.email)
    response = post(client, "/api/v1/two-factor/sms", {"phone": "044 668 18 00", "country": "CH"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["param"] == "phone"
    missing = post(client, "/api/v1/two-factor/sms", {})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["param"] == "phone"


def test_asvs_7_5_1_enrollment_needs_a_recent_authentication(member):
    client = signed_in_by_password(member.user.email)
    age_authentication(client, 600)
    response = post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "reauthentication_required"
    again = post(client, "/_allauth/browser/v1/auth/reauthenticate", {"password": PASSWORD})
    assert again.status_code == 200
    assert post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67"}).status_code == 202


def test_changing_the_number_needs_the_second_factor_again(member_with_sms, sms_outbox):
    client = signed_in_by_password(member_with_sms.user.email)  # password only: stage pending
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    age_authentication(client, 600)
    response = post(client, "/api/v1/two-factor/sms", {"phone": "078 111 22 33"})
    assert response.json()["errors"][0]["code"] == "reauthentication_required"
    assert post(client, "/_allauth/browser/v1/auth/2fa/reauthenticate").status_code == 202
    code = sms_outbox.last_code(to="+41791234567")
    confirmed = post(client, "/_allauth/browser/v1/auth/2fa/reauthenticate", {"code": code})
    assert confirmed.status_code == 200
    assert post(client, "/api/v1/two-factor/sms", {"phone": "078 111 22 33"}).status_code == 202
    confirmed = post(client, "/api/v1/two-factor/sms/confirm", {"code": sms_outbox.last_code()})
    assert confirmed.json()["data"]["masked_phone"].endswith("33")


def test_resend_too_soon_is_429_with_the_wait(member):
    client = signed_in_by_password(member.user.email)
    post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67"})
    response = post(client, "/api/v1/two-factor/sms/resend")
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "sms_resend_cooldown"
    assert 0 < response.json()["retry_after"] <= 30


def test_cancel_leaves_the_member_as_before(member):
    client = signed_in_by_password(member.user.email)
    post(client, "/api/v1/two-factor/sms", {"phone": "079 123 45 67"})
    data = post(client, "/api/v1/two-factor/cancel").json()["data"]
    assert (data["enabled"], data["pending"]) == (False, None)


def test_disable_through_the_api(member_with_sms, sms_outbox):
    client = signed_in_by_password(member_with_sms.user.email)
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    response = client.delete("/api/v1/two-factor")
    assert response.status_code == 200
    assert response.json()["data"]["enabled"] is False


def test_disable_refused_with_the_reason_when_required(member_with_sms, sms_outbox):
    client = signed_in_by_password(member_with_sms.user.email)
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    with mock.patch("twofold.factors.sms.flows.policy.two_factor_required", return_value=True):
        response = client.delete("/api/v1/two-factor")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "two_factor_required"


def test_regenerate_backup_codes_through_the_api(member_with_sms, sms_outbox):
    client = signed_in_by_password(member_with_sms.user.email)
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    codes = post(client, "/api/v1/two-factor/backup-codes/regenerate").json()["data"]["codes"]
    assert len(codes) == 10
    assert not set(codes) & set(member_with_sms.backup_codes)


def test_app_client_manages_two_factor_with_its_session_token(member, sms_outbox):
    app = Client()
    login = post(
        app, "/_allauth/app/v1/auth/login", {"email": member.user.email, "password": PASSWORD}
    )
    token = login.json()["meta"]["session_token"]
    started = app.post(
        "/api/v1/two-factor/sms",
        json.dumps({"phone": "+41791234567"}),
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )
    assert started.status_code == 202, started.content  # the token's session had the password
