"""Forced 2FA enrollment at sign-in: an account that requires 2FA lets nobody in without it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tests.conftest import MOBILE, PASSWORD, require_two_factor
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor

ENROLL = "/accounts/2fa/enroll/"
NUMBER = "/accounts/2fa/enroll/number/"
CONFIRM = "/accounts/2fa/enroll/confirm/"
BACKUP_CODES = "/accounts/2fa/enroll/backup-codes/"
LATER = "/accounts/2fa/enroll/later/"
CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")
STAGE = {"id": "twofold_two_factor_enrollment", "is_pending": True}


def password_step(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def text(response) -> str:
    return response.content.decode()


def enter_number(client: Client, number: str = "079 123 45 67"):
    return client.post(NUMBER, {"country": "CH", "phone": number})


# --- Pages --------------------------------------------------------------------------------------


def test_member_without_2fa_is_taken_through_enrollment_before_any_session(
    client, member, account_requiring_2fa, sms_outbox
):
    assert password_step(client, member.user.email)["Location"] == ENROLL
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert client.get(ENROLL)["Location"] == NUMBER  # no grace: straight to the number
    page = text(client.get(NUMBER))
    assert "Your account requires two-factor authentication" in page
    assert "Later" not in page

    assert enter_number(client)["Location"] == CONFIRM
    assert not signed_in(client)
    assert client.post(CONFIRM, {"code": sms_outbox.last_code(MOBILE)})["Location"] == BACKUP_CODES
    assert not signed_in(client)
    assert len(CODE.findall(text(client.get(BACKUP_CODES)))) == 10
    refused = client.post(BACKUP_CODES, {})
    assert "Confirm that you have saved your backup codes." in text(refused)
    assert not signed_in(client)

    done = client.post(BACKUP_CODES, {"saved_backup_codes": "on"})

    assert done["Location"] == "/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    me = client.get("/api/v1/me").json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "sms"], "aal2")
    assert SmsFactor.objects.get(user=member.user).phone == MOBILE
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    assert len(sms_outbox.messages()) == 1  # the new factor is not challenged again


def test_stage_pages_are_closed_without_a_pending_login(client, member, account_requiring_2fa):
    for page in (ENROLL, NUMBER, CONFIRM, BACKUP_CODES):
        assert client.get(page)["Location"] == "/accounts/login/"
    assert client.post(LATER)["Location"] == "/accounts/login/"


def test_member_with_2fa_is_challenged_as_usual(
    client, member_with_sms, account_requiring_2fa, sms_outbox
):
    assert password_step(client, member_with_sms.user.email)["Location"] == "/accounts/2fa/"
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})["Location"] == "/"
    assert client.get("/api/v1/me").json()["data"]["aal"] == "aal2"
    assert not PendingSmsEnrollment.objects.exists()


def test_member_of_an_account_without_the_requirement_is_not_asked(client, member):
    assert password_step(client, member.user.email)["Location"] == "/"


def test_asvs_6_4_3_password_reset_does_not_bypass_forced_enrollment(
    client, member, account_requiring_2fa
):
    client.post("/accounts/password/reset/", {"email": member.user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    assert link is not None
    form_page = client.get(link.group(0), follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0)
    new = "a brand new passphrase"
    client.post(action, {"password1": new, "password2": new})
    assert not signed_in(client)  # the reset signed nobody in

    browser = Client()
    assert password_step(browser, member.user.email, new)["Location"] == ENROLL
    assert not signed_in(browser)


def test_enrollment_started_in_another_login_cannot_be_finished_here(
    member, account_requiring_2fa, sms_outbox
):
    first, second = Client(), Client()
    password_step(first, member.user.email)
    enter_number(first)
    code_of_first = sms_outbox.last_code()
    password_step(second, member.user.email)

    refused = second.post(CONFIRM, {"code": code_of_first})

    assert refused["Location"] == NUMBER
    assert not SmsFactor.objects.filter(user=member.user).exists()
    assert not signed_in(second)


# --- Grace period -------------------------------------------------------------------------------


def test_grace_period_shows_the_days_left_and_later_signs_in_at_aal1(client, member, administrator):
    require_two_factor(administrator.organization, grace_days=7)
    password_step(client, member.user.email)

    page = text(client.get(ENROLL))

    assert "Your account requires two-factor authentication: 7 days left" in page
    assert "Set up now" in page
    assert "Later" in page
    done = client.post(LATER)
    assert done["Location"] == "/"
    assert client.get("/api/v1/me").json()["data"]["aal"] == "aal1"
    assert not SmsFactor.objects.filter(user=member.user).exists()
    postponed = AuditEvent.objects.get(event=Event.TWO_FACTOR_POSTPONED)
    assert (postponed.subject, postponed.detail) == (member.user, {"days_left": 7})


def test_the_days_left_count_down_from_when_the_box_was_ticked(client, member, administrator):
    since = clock.now() - timedelta(days=5, hours=1)
    require_two_factor(administrator.organization, grace_days=7, since=since)
    password_step(client, member.user.email)
    assert "2 days left" in text(client.get(ENROLL))


def test_after_the_grace_period_there_is_no_later(client, member, administrator):
    since = clock.now() - timedelta(days=8)
    require_two_factor(administrator.organization, grace_days=7, since=since)
    password_step(client, member.user.email)

    assert client.get(ENROLL)["Location"] == NUMBER
    assert "Later" not in text(client.get(NUMBER))
    refused = client.post(LATER, follow=True)
    assert "set it up to sign in" in text(refused)
    assert not signed_in(client)


# --- JSON API -----------------------------------------------------------------------------------


def api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/app/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def app_login(client: Client, email: str) -> str:
    response = api(client, "/auth/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 401
    assert STAGE in response.json()["data"]["flows"]
    return str(response.json()["meta"]["session_token"])


def test_api_shows_the_pending_enrollment_and_completes_it(
    member, account_requiring_2fa, sms_outbox
):
    app = Client()
    token = app_login(app, member.user.email)
    assert app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 401
    state = app.get("/_allauth/app/v1/auth/2fa/enroll", HTTP_X_SESSION_TOKEN=token).json()
    assert state["data"] | {"resend_in": 0} == {
        "method": "sms",
        "step": "phone",
        "phone": None,
        "resend_in": 0,
        "default_country": "CH",
        "days_left": 0,
        "may_postpone": False,
        "methods": ["totp", "sms"],
    }

    started = api(app, "/auth/2fa/enroll/sms", {"phone": "079 123 45 67"}, token)
    assert (started.status_code, started.json()["data"]["step"]) == (202, "code")
    confirmed = api(app, "/auth/2fa/enroll/sms/confirm", {"code": sms_outbox.last_code()}, token)
    assert len(confirmed.json()["data"]["codes"]) == 10
    unsaved = api(app, "/auth/2fa/enroll/activate", {"saved_backup_codes": False}, token)
    assert unsaved.json()["errors"][0]["code"] == "backup_codes_not_saved"
    assert api(app, "/auth/2fa/enroll/postpone", {}, token).status_code == 409

    done = api(app, "/auth/2fa/enroll/activate", {"saved_backup_codes": True}, token)

    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True
    final_token = done.json()["meta"].get("session_token", token)
    me = app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=final_token).json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "sms"], "aal2")


def test_api_postpones_during_the_grace_period(member, administrator):
    require_two_factor(administrator.organization, grace_days=3)
    app = Client()
    token = app_login(app, member.user.email)
    state = app.get("/_allauth/app/v1/auth/2fa/enroll", HTTP_X_SESSION_TOKEN=token).json()
    assert (state["data"]["days_left"], state["data"]["may_postpone"]) == (3, True)

    done = api(app, "/auth/2fa/enroll/postpone", {}, token)

    assert done.json()["meta"]["is_authenticated"] is True
    final_token = done.json()["meta"].get("session_token", token)
    me = app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=final_token).json()["data"]
    assert me["aal"] == "aal1"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/2fa/enroll/sms/confirm", {"code": "123456"}),
        ("/auth/2fa/enroll/sms/resend", {}),
        ("/auth/2fa/enroll/backup-codes", {}),
        ("/auth/2fa/enroll/activate", {"saved_backup_codes": True}),
    ],
)
def test_api_steps_before_the_number_ask_for_the_number(member, account_requiring_2fa, path, body):
    app = Client()
    token = app_login(app, member.user.email)
    response = api(app, path, body, token)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "enrollment_missing"


def test_api_enrollment_endpoints_need_the_pending_stage(member_with_sms, account_requiring_2fa):
    app = Client()
    response = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = response.json()["meta"]["session_token"]
    assert STAGE not in response.json()["data"]["flows"]  # the SMS challenge comes instead
    assert api(app, "/auth/2fa/enroll/sms", {"phone": MOBILE}, token).status_code == 401


def test_later_is_allowed_once_the_account_no_longer_requires_2fa(client, member, administrator):
    organization = require_two_factor(administrator.organization)
    password_step(client, member.user.email)
    organization.require_two_factor = False
    organization.save()

    assert client.post(LATER)["Location"] == "/"
    assert not AuditEvent.objects.filter(event=Event.TWO_FACTOR_POSTPONED).exists()
