"""Sign-in with the second factor: no session until the code is right (pages and API)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from twofold import clock
from twofold.factors import lockout
from twofold.factors.sms.models import SmsFactor


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def test_password_alone_gives_no_session_and_texts_a_code(client, member_with_sms, sms_outbox):
    response = password_step(client, member_with_sms.user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"
    assert client.get("/").status_code == 302  # not signed in
    assert client.get("/api/v1/me").status_code == 401
    assert len(sms_outbox.messages()) == 1
    page = client.get("/accounts/2fa/")
    assert b"+41" in page.content
    assert b'autocomplete="one-time-code"' in page.content
    assert b'inputmode="numeric"' in page.content


def test_right_code_signs_in_with_a_new_session_id_at_aal2(client, member_with_sms, sms_outbox):
    password_step(client, member_with_sms.user.email)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    me = client.get("/api/v1/me").json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "sms"], "aal2")


def test_wrong_code_is_refused_and_keeps_waiting(client, member_with_sms, sms_outbox):
    password_step(client, member_with_sms.user.email)
    code = sms_outbox.last_code()
    response = client.post("/accounts/2fa/", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert response.status_code == 200
    assert b"not right" in response.content
    assert client.get("/").status_code == 302


def test_code_of_another_login_does_not_work(member_with_sms, sms_outbox, settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)  # a code for each login
    first, second = Client(), Client()
    password_step(first, member_with_sms.user.email)
    code_of_first = sms_outbox.last_code()
    password_step(second, member_with_sms.user.email)
    assert len(sms_outbox.messages()) == 2
    response = second.post("/accounts/2fa/", {"code": code_of_first})
    assert response.status_code == 200
    assert b"not right" in response.content
    assert second.get("/").status_code == 302


def test_resend_within_the_cooldown_says_when(client, member_with_sms, sms_outbox):
    password_step(client, member_with_sms.user.email)
    response = client.post("/accounts/2fa/resend/", follow=True)
    assert b"seconds" in response.content
    assert len(sms_outbox.messages()) == 1


def test_after_five_wrong_tries_a_new_code_signs_in(client, member_with_sms, sms_outbox, settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)
    password_step(client, member_with_sms.user.email)
    first = sms_outbox.last_code()
    for _ in range(5):
        client.post("/accounts/2fa/", {"code": wrong(first)})
    exhausted = client.post("/accounts/2fa/", {"code": first})
    assert b"Ask for a new one" in exhausted.content
    client.post("/accounts/2fa/resend/")
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()}).status_code == 302
    assert client.get("/api/v1/me").json()["data"]["aal"] == "aal2"


def test_second_factor_removed_mid_login_lets_the_login_continue(client, member_with_sms):
    password_step(client, member_with_sms.user.email)
    SmsFactor.objects.filter(user=member_with_sms.user).delete()  # an administrator's reset
    response = client.get("/accounts/2fa/")
    assert response.status_code == 302
    me = client.get("/api/v1/me").json()["data"]
    assert (me["user"]["email"], me["aal"]) == (member_with_sms.user.email, "aal1")


def test_second_factor_removed_mid_login_does_not_break_resend_or_backup_code(member_with_sms):
    for path in ("/accounts/2fa/resend/", "/accounts/2fa/backup-code/"):
        client = Client()
        password_step(client, member_with_sms.user.email)
        SmsFactor.objects.filter(user=member_with_sms.user).delete()
        assert client.post(path, {"code": "123456"}).status_code == 302
        assert client.get("/api/v1/me").status_code == 200
        SmsFactor.objects.create(
            user=member_with_sms.user, phone="+41791234567", enabled_at=clock.now()
        )


def test_locked_member_is_not_texted_at_sign_in_and_told_when(client, member_with_sms, sms_outbox):
    lockout.SecondFactorFailures.objects.create(
        user=member_with_sms.user, consecutive=20, locked_until=clock.now() + timedelta(minutes=5)
    )
    password_step(client, member_with_sms.user.email)
    assert sms_outbox.messages() == []
    page = client.get("/accounts/2fa/").content.decode()
    assert "Try again in" in page
    assert "We sent a text message" not in page


def test_deactivated_member_is_not_texted_and_cannot_finish_signing_in(
    client, member_with_sms, sms_outbox, settings
):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)
    password_step(client, member_with_sms.user.email)
    member_with_sms.user.is_active = False
    member_with_sms.user.save(update_fields=["is_active"])
    client.post("/accounts/2fa/resend/", follow=True)
    assert len(sms_outbox.messages()) == 1  # only the one sent before the deactivation
    refused = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert b"This account is deactivated" in refused.content


def test_lost_phone_help_says_where_administrators_reset_two_factor(client, member_with_sms):
    password_step(client, member_with_sms.user.email)
    page = client.get("/accounts/2fa/").content.decode()
    assert "from the Members page" in page


def test_backup_code_signs_in_once(member_with_sms):
    code = member_with_sms.backup_codes[0]
    first = Client()
    password_step(first, member_with_sms.user.email)
    assert first.post("/accounts/2fa/backup-code/", {"code": code}).status_code == 302
    me = first.get("/api/v1/me").json()["data"]
    assert me["aal"] == "aal2"
    again = Client()
    password_step(again, member_with_sms.user.email)
    refused = again.post("/accounts/2fa/backup-code/", {"code": code})
    assert refused.status_code == 200
    assert again.get("/").status_code == 302


def test_member_without_2fa_signs_in_with_the_password(client, member, sms_outbox):
    assert password_step(client, member.user.email)["Location"] == "/"
    assert sms_outbox.messages() == []


def api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/app/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def test_api_shows_the_pending_stage_and_completes_it(member_with_sms, sms_outbox):
    app = Client()
    response = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    assert response.status_code == 401
    body = response.json()
    assert {"id": "twofold_second_factor", "is_pending": True} in body["data"]["flows"]
    token = body["meta"]["session_token"]
    challenge = app.get("/_allauth/app/v1/auth/2fa/sms", HTTP_X_SESSION_TOKEN=token).json()
    assert challenge["data"]["masked_phone"].startswith("+41")
    done = api(app, "/auth/2fa/sms", {"code": sms_outbox.last_code()}, token)
    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True
    final_token = done.json()["meta"].get("session_token", token)
    me = app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=final_token).json()["data"]
    assert me["aal"] == "aal2"


def test_api_wrong_code_is_a_400_with_a_code(member_with_sms, sms_outbox):
    app = Client()
    token = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = token.json()["meta"]["session_token"]
    code = sms_outbox.last_code()
    refused = api(app, "/auth/2fa/sms", {"code": f"{(int(code) + 1) % 10**6:06d}"}, token)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "code_invalid"


def test_api_resend_too_soon_is_429_with_the_wait(member_with_sms, sms_outbox):
    app = Client()
    token = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = token.json()["meta"]["session_token"]
    response = api(app, "/auth/2fa/sms/resend", {}, token)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 30
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_api_backup_code(member_with_sms):
    app = Client()
    token = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = token.json()["meta"]["session_token"]
    done = api(app, "/auth/2fa/backup-code", {"code": member_with_sms.backup_codes[3]}, token)
    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True


def test_asvs_6_4_3_password_reset_does_not_bypass_the_second_factor(
    client, member_with_sms, sms_outbox
):
    import re

    from django.core import mail

    client.post("/accounts/password/reset/", {"email": member_with_sms.user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    assert link is not None
    form_page = client.get(link.group(0), follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0)
    new = "a brand new passphrase"
    client.post(action, {"password1": new, "password2": new})
    assert client.get("/").status_code == 302  # the reset signed nobody in
    response = Client().post(
        "/accounts/login/", {"login": member_with_sms.user.email, "password": new}
    )
    assert response["Location"] == "/accounts/2fa/"


def test_api_second_factor_removed_mid_login_lets_the_login_continue(member_with_sms):
    app = Client()
    token = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = token.json()["meta"]["session_token"]
    SmsFactor.objects.filter(user=member_with_sms.user).delete()
    response = app.get("/_allauth/app/v1/auth/2fa/sms", HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["meta"]["is_authenticated"] is True


def test_api_after_five_wrong_tries_a_new_code_signs_in(member_with_sms, sms_outbox, settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)
    app = Client()
    token = api(app, "/auth/login", {"email": member_with_sms.user.email, "password": PASSWORD})
    token = token.json()["meta"]["session_token"]
    first = sms_outbox.last_code()
    for _ in range(5):
        api(app, "/auth/2fa/sms", {"code": wrong(first)}, token)
    exhausted = api(app, "/auth/2fa/sms", {"code": first}, token)
    assert exhausted.json()["errors"][0]["code"] == "code_exhausted"
    assert api(app, "/auth/2fa/sms/resend", {}, token).status_code == 200
    done = api(app, "/auth/2fa/sms", {"code": sms_outbox.last_code()}, token)
    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True


def test_the_code_step_offers_no_sign_in_or_sign_up_links(client, member_with_sms, sms_outbox):
    assert b'aria-label="Sign in or sign up"' in client.get("/accounts/login/").content
    password_step(client, member_with_sms.user.email)
    page = client.get("/accounts/2fa/")
    assert b'aria-label="Sign in or sign up"' not in page.content


def test_signing_in_again_within_the_cooldown_says_so_and_counts_down(
    member_with_sms, sms_outbox, monkeypatch
):
    """Issue 19: the earlier sign-in's code stays bound to it; this one waits, then texts."""
    first, second = Client(), Client()
    password_step(first, member_with_sms.user.email)
    code_of_first = sms_outbox.last_code()
    password_step(second, member_with_sms.user.email)
    assert len(sms_outbox.messages()) == 1  # the send limits hold

    page = second.get("/accounts/2fa/").content.decode()
    assert "earlier sign-in" in page
    assert "when the countdown ends" in page
    assert 'class="secondary waiting"' in page
    assert "(in " in page

    refused = second.post("/accounts/2fa/", {"code": code_of_first}).content.decode()
    assert "There is no code to enter for this step" in refused
    assert second.get("/").status_code == 302

    later = clock.now() + timedelta(seconds=settings.TWOFOLD.sms_resend_cooldown + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    second.post("/accounts/2fa/resend/")
    assert len(sms_outbox.messages()) == 2
    assert second.post("/accounts/2fa/", {"code": sms_outbox.last_code()}).status_code == 302
