"""The authenticator app (TOTP) in the JSON API (api/factors/totp.py, api/factors/status.py):
setting it up, choosing the preferred factor, removing it, turning 2FA off."""

from __future__ import annotations

import json

from allauth.mfa.models import Authenticator
from django.test import Client

from tests.conftest import give_sms_factor
from tests.factors.totp.browsers import other_device, signed_in
from twofold import clock
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.models import PreferredFactor
from twofold.factors.totp import codes


def api(client: Client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method, f"/api/v1{path}", json.dumps(body or {}), content_type="application/json"
    )


def test_api_sets_up_an_app_as_first_factor(member):
    client = signed_in(member.user.email)
    started = api(client, "POST", "/two-factor/totp")
    assert started.status_code == 202
    data = started.json()["data"]
    assert data["otpauth_uri"].startswith("otpauth://totp/")
    assert "issuer=Twofold" in data["otpauth_uri"]
    assert data["qr_code_svg"].startswith("data:image/svg+xml;base64,")
    secret = data["secret"].replace(" ", "")
    assert api(client, "POST", "/two-factor/totp").json()["data"]["secret"] == data["secret"]

    refused = api(client, "POST", "/two-factor/totp/confirm", {"code": "000"})
    assert refused.status_code == 400
    early = api(client, "POST", "/two-factor/totp/backup-codes")
    assert early.json()["errors"][0]["code"] == "totp_not_confirmed"
    confirmed = api(
        client, "POST", "/two-factor/totp/confirm", {"code": codes.code_at(secret, clock.now())}
    )
    assert confirmed.json()["data"]["totp_active"] is False
    # The backup codes and the activation: tests/factors/test_activation.py.
    api(client, "POST", "/two-factor/totp/backup-codes")
    done = api(client, "POST", "/two-factor/totp/activate", {"saved_backup_codes": True})
    status = done.json()["data"]
    assert (status["enabled"], status["method"], status["methods"]) == (True, "totp", ["totp"])
    assert status["totp"]["created_at"]
    again = api(client, "POST", "/two-factor/totp")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (409, "totp_active")


def test_api_chooses_the_preferred_factor_and_removes_one(member_with_totp):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    chosen = api(client, "PUT", "/two-factor/preferred", {"method": "sms"})
    assert chosen.json()["data"]["method"] == "sms"
    bad = api(client, "PUT", "/two-factor/preferred", {"method": "carrier-pigeon"})
    assert bad.status_code == 400
    removed = api(client, "DELETE", "/two-factor/sms")
    assert removed.json()["data"]["methods"] == ["totp"]
    assert removed.json()["data"]["method"] == "totp"
    assert not PreferredFactor.objects.filter(user=member_with_totp.user).exists()
    gone = api(client, "PUT", "/two-factor/preferred", {"method": "sms"})
    assert gone.status_code == 409
    assert gone.json()["errors"][0]["code"] == "factor_missing"


def test_turning_2fa_off_removes_every_factor(member_with_totp):
    give_sms_factor(member_with_totp)
    client = signed_in(member_with_totp.user.email, secret=member_with_totp.totp_secret)
    response = api(client, "DELETE", "/two-factor")
    assert response.json()["data"]["methods"] == []
    assert not Authenticator.objects.filter(user=member_with_totp.user).exists()
    assert not BackupCode.objects.filter(user=member_with_totp.user).exists()


def test_asvs_7_4_3_api_removing_the_app_carries_other_sessions(member_with_totp):
    email, secret = member_with_totp.user.email, member_with_totp.totp_secret
    other_device(email, secret)
    client = signed_in(email, secret=secret)
    removed = api(client, "DELETE", "/two-factor/totp")
    assert removed.status_code == 200
    assert removed.json()["data"]["other_sessions"] == 1
