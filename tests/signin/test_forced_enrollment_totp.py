"""Forced 2FA enrollment at sign-in with an authenticator app instead of SMS (pages and API)."""

from __future__ import annotations

import json
import re

from allauth.mfa.models import Authenticator
from django.test import Client

from tests.conftest import PASSWORD, require_two_factor
from twofold import clock
from twofold.factors import member_factors
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.factors.totp import codes

APP = "/accounts/2fa/enroll/app/"
BACKUP_CODES = "/accounts/2fa/enroll/backup-codes/"
KEY = re.compile(r'<code class="totp-key" id="totp-key" data-copy-value="([A-Z2-7]+)">')
CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_forced_enrollment_offers_and_completes_an_authenticator_app(
    client, member, account_requiring_2fa, sms_outbox
):
    password_step(client, member.user.email)
    assert b"Use an authenticator app instead" in client.get("/accounts/2fa/enroll/number/").content
    page = client.get(APP)
    secret = KEY.search(page.content.decode()).group(1).replace(" ", "")
    assert b'src="data:image/svg+xml;base64,' in page.content
    right = codes.code_at(secret, clock.now())
    wrong = client.post(APP, {"code": f"{(int(right) + 1) % 10**6:06d}"})
    assert b"not right" in wrong.content
    assert not signed_in(client)
    done = client.post(APP, {"code": codes.code_at(secret, clock.now())})
    assert done["Location"] == BACKUP_CODES
    assert not signed_in(client)
    assert len(CODE.findall(client.get(BACKUP_CODES).content.decode())) == 10
    finished = client.post(BACKUP_CODES, {"saved_backup_codes": "on"})
    assert finished["Location"] == "/"
    me = client.get("/api/v1/me").json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "otp"], "aal2")
    assert member_factors.methods(member.user) == ["totp"]
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    assert sms_outbox.messages() == []


def test_choosing_the_app_after_a_number_drops_the_number(
    client, member, account_requiring_2fa, sms_outbox
):
    password_step(client, member.user.email)
    client.post("/accounts/2fa/enroll/number/", {"country": "CH", "phone": "079 123 45 67"})
    assert PendingSmsEnrollment.objects.filter(user=member.user).exists()
    client.get(APP)
    assert not PendingSmsEnrollment.objects.filter(user=member.user).exists()


def test_later_abandons_an_app_set_up_in_the_grace_period(client, member, administrator):
    require_two_factor(administrator.organization, grace_days=3)
    password_step(client, member.user.email)
    secret = KEY.search(client.get(APP).content.decode()).group(1).replace(" ", "")
    client.post(APP, {"code": codes.code_at(secret, clock.now())})
    client.get(BACKUP_CODES)
    assert client.post("/accounts/2fa/enroll/later/")["Location"] == "/"
    assert not Authenticator.objects.filter(user=member.user).exists()
    assert not BackupCode.objects.filter(user=member.user).exists()


def api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/app/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def test_api_forced_enrollment_with_an_authenticator_app(member, account_requiring_2fa):
    app = Client()
    login = api(app, "/auth/login", {"email": member.user.email, "password": PASSWORD})
    token = login.json()["meta"]["session_token"]
    started = api(app, "/auth/2fa/enroll/totp", {}, token)
    assert started.status_code == 202
    secret = started.json()["data"]["secret"].replace(" ", "")
    state = app.get("/_allauth/app/v1/auth/2fa/enroll", HTTP_X_SESSION_TOKEN=token).json()
    assert (state["data"]["method"], state["data"]["step"]) == ("totp", "totp_code")
    refused = api(app, "/auth/2fa/enroll/totp/confirm", {"code": "12"}, token)
    assert refused.status_code == 400
    code = codes.code_at(secret, clock.now())
    confirmed = api(app, "/auth/2fa/enroll/totp/confirm", {"code": code}, token)
    assert len(confirmed.json()["data"]["codes"]) == 10
    done = api(app, "/auth/2fa/enroll/activate", {"saved_backup_codes": True}, token)
    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True
    final = done.json()["meta"].get("session_token", token)
    me = app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=final).json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "otp"], "aal2")
