"""Sign-in with an authenticator app, and with several factors ("try another way")."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from tests.conftest import PASSWORD, give_sms_factor
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import lockout
from twofold.factors.models import PreferredFactor
from twofold.factors.totp import codes


def password_step(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def current_code(member) -> str:
    return codes.code_at(member.totp_secret, clock.now())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_totp_code_signs_in_at_aal2_with_amr_otp(client, member_with_totp, sms_outbox):
    assert password_step(client, member_with_totp.user.email)["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/")
    assert b"authenticator app" in page.content
    assert sms_outbox.messages() == []  # nothing texted to a member who uses an app
    response = client.post("/accounts/2fa/", {"code": current_code(member_with_totp)})
    assert response["Location"] == "/"
    me = client.get("/api/v1/me").json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "otp"], "aal2")  # RFC 8176 "otp"


def test_wrong_totp_code_is_refused_and_audited(client, member_with_totp):
    password_step(client, member_with_totp.user.email)
    page = client.post("/accounts/2fa/", {"code": wrong(current_code(member_with_totp))})
    assert page.status_code == 200
    assert b"not right" in page.content
    assert client.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.get(event=Event.SECOND_FACTOR_FAILED).factor == "totp"


def test_totp_code_replay_is_refused_across_workers(member_with_totp):
    """Two logins, as if served by two workers: the shared cache refuses the second use."""
    assert "LocMem" not in django_settings.CACHES["default"]["BACKEND"]
    first, second = Client(), Client()
    password_step(first, member_with_totp.user.email)
    password_step(second, member_with_totp.user.email)
    code = current_code(member_with_totp)
    assert first.post("/accounts/2fa/", {"code": code})["Location"] == "/"
    replayed = second.post("/accounts/2fa/", {"code": code})
    assert replayed.status_code == 200
    assert b"already used" in replayed.content
    assert b"Wait for the next code in your app" in replayed.content  # issue 19
    assert second.get("/api/v1/me").status_code == 401
    failed = AuditEvent.objects.get(event=Event.SECOND_FACTOR_FAILED)
    assert failed.detail == {"reason": "replayed"}


def test_asvs_6_5_1_an_older_totp_code_is_refused_after_a_newer_one(member_with_totp):
    """The previous step's code is still inside the drift window, but a newer one was used."""
    first, second = Client(), Client()
    password_step(first, member_with_totp.user.email)
    password_step(second, member_with_totp.user.email)
    now = clock.now()
    newer = codes.code_at(member_with_totp.totp_secret, now)
    older = codes.code_at(member_with_totp.totp_secret, now - timedelta(seconds=30))
    assert first.post("/accounts/2fa/", {"code": newer})["Location"] == "/"
    refused = second.post("/accounts/2fa/", {"code": older})
    assert refused.status_code == 200
    assert second.get("/api/v1/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_totp_code_posted_twice_at_once_signs_in_once(make_member):
    from tests.conftest import give_totp_factor

    member = make_member("tess@acme.test")
    member.totp_secret = give_totp_factor(member)
    browsers = [Client(), Client()]
    for browser in browsers:
        password_step(browser, member.user.email)
    code = current_code(member)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def post(browser: Client) -> None:
        try:
            barrier.wait()
            results.append(browser.post("/accounts/2fa/", {"code": code}).status_code)
        finally:
            connections.close_all()  # this thread's own database connections

    threads = [threading.Thread(target=post, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [200, 302]  # one signed in (redirect), one refused (the form)


def test_totp_failures_count_in_the_same_lockout_as_sms(client, member_with_totp, settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, second_factor_failure_limit=3)
    user = member_with_totp.user
    lockout.record_failure(user.pk, clock.now())  # e.g. a wrong SMS code earlier
    password_step(client, user.email)
    bad = wrong(current_code(member_with_totp))
    client.post("/accounts/2fa/", {"code": bad})
    client.post("/accounts/2fa/", {"code": bad})
    locked = client.post("/accounts/2fa/", {"code": current_code(member_with_totp)})
    assert b"paused" in locked.content  # even the right code waits until the lock ends
    assert client.get("/api/v1/me").status_code == 401


def test_preferred_factor_comes_first_and_another_way_is_offered(
    client, member_with_totp, sms_outbox
):
    give_sms_factor(member_with_totp)
    password_step(client, member_with_totp.user.email)
    page = client.get("/accounts/2fa/")
    assert b"authenticator app" in page.content  # the strongest, by default
    assert b"Try another way" in page.content
    other = client.get("/accounts/2fa/other/")
    assert b"Text a code to +41" in other.content
    assert b"backup code" in other.content
    assert sms_outbox.messages() == []
    client.post("/accounts/2fa/other/", {"method": "sms"})
    assert len(sms_outbox.messages()) == 1
    response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response["Location"] == "/"
    assert client.get("/api/v1/me").json()["data"]["amr"] == ["pwd", "sms"]


def test_member_preferring_sms_is_texted_first(client, member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    PreferredFactor.objects.create(user=member_with_totp.user, method="sms")
    password_step(client, member_with_totp.user.email)
    assert len(sms_outbox.messages()) == 1
    client.post("/accounts/2fa/other/", {"method": "totp"})
    response = client.post("/accounts/2fa/", {"code": current_code(member_with_totp)})
    assert response["Location"] == "/"


def test_a_method_the_member_lacks_cannot_be_chosen(client, member_with_totp, sms_outbox):
    password_step(client, member_with_totp.user.email)
    response = client.post("/accounts/2fa/other/", {"method": "sms"}, follow=True)
    assert b"not set up" in response.content
    assert sms_outbox.messages() == []


def api(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return client.post(
        f"/_allauth/app/v1{path}",
        json.dumps(body or {}),
        content_type="application/json",
        **headers,
    )


def api_login(client: Client, email: str) -> str:
    response = api(client, "/auth/login", {"email": email, "password": PASSWORD})
    assert {"id": "twofold_second_factor", "is_pending": True} in response.json()["data"]["flows"]
    return str(response.json()["meta"]["session_token"])


def test_api_pending_stage_tells_the_factors_and_accepts_a_totp_code(member_with_totp):
    give_sms_factor(member_with_totp)
    app = Client()
    token = api_login(app, member_with_totp.user.email)
    challenge = app.get("/_allauth/app/v1/auth/2fa/verify", HTTP_X_SESSION_TOKEN=token).json()
    assert challenge["data"]["method"] == "totp"
    assert challenge["data"]["methods"] == ["totp", "sms", "backup_code"]
    code = current_code(member_with_totp)
    malformed = api(app, "/auth/2fa/verify", {"method": "totp", "code": "12"}, token)
    assert malformed.status_code == 400
    done = api(app, "/auth/2fa/verify", {"method": "totp", "code": code}, token)
    assert done.status_code == 200
    assert done.json()["meta"]["is_authenticated"] is True
    final = done.json()["meta"].get("session_token", token)
    me = app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=final).json()["data"]
    assert (me["amr"], me["aal"]) == (["pwd", "otp"], "aal2")


def test_api_refuses_a_replayed_totp_code_with_a_code(member_with_totp):
    code = current_code(member_with_totp)
    first, second = Client(), Client()
    first_token = api_login(first, member_with_totp.user.email)
    second_token = api_login(second, member_with_totp.user.email)
    accepted = api(first, "/auth/2fa/verify", {"method": "totp", "code": code}, first_token)
    assert accepted.status_code == 200
    refused = api(second, "/auth/2fa/verify", {"method": "totp", "code": code}, second_token)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "code_invalid"


def test_api_try_another_way_texts_a_code(member_with_totp, sms_outbox):
    give_sms_factor(member_with_totp)
    app = Client()
    token = api_login(app, member_with_totp.user.email)
    chosen = api(app, "/auth/2fa/method", {"method": "sms"}, token)
    assert chosen.json()["data"]["method"] == "sms"
    done = api(app, "/auth/2fa/verify", {"method": "sms", "code": sms_outbox.last_code()}, token)
    assert done.status_code == 200
    no_login = api(Client(), "/auth/2fa/method", {"method": "totp"})
    assert no_login.status_code in (400, 401, 409)  # no pending login: not a 500


def test_api_sms_resend_for_a_member_without_sms_is_factor_missing_409(
    member_with_totp, sms_outbox
):
    app = Client()
    token = api_login(app, member_with_totp.user.email)
    refused = api(app, "/auth/2fa/sms/resend", {}, token)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "factor_missing"
    assert sms_outbox.messages() == []


def test_page_resend_at_an_app_step_is_refused_and_texts_nothing(member_with_totp, sms_outbox):
    """The page's resend sends the code of the factor in use; an app sends none (no_code_sent)."""
    give_sms_factor(member_with_totp)
    client = Client()
    client.post("/accounts/login/", {"login": member_with_totp.user.email, "password": PASSWORD})
    response = client.post("/accounts/2fa/resend/", follow=True)
    assert b"This method sends no code" in response.content
    assert sms_outbox.messages() == []


@pytest.mark.parametrize("path", ["/auth/2fa/verify", "/auth/2fa/method"])
def test_api_a_method_the_member_lacks_is_factor_missing_409_at_sign_in(
    member_with_totp, sms_outbox, path
):
    """The same code and status as in re-authentication and ``PUT …/preferred``; never
    ``two_factor_off``: the member has a second factor, only not this one."""
    app = Client()
    token = api_login(app, member_with_totp.user.email)
    refused = api(app, path, {"method": "sms", "code": "123456"}, token)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "factor_missing"
    assert refused.json()["errors"][0]["param"] == "method"
    assert sms_outbox.messages() == []
