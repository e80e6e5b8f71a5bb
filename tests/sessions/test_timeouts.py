"""Session timeouts and ends (sessions/timeouts.py; DESIGN.md "Sessions"; ASVS 7.3.1, 7.3.2,
7.4.1): idle and absolute limits for browser and app sessions, sign-out, and their audit."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from twofold.sessions import timeouts


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def app_sign_in(client: Client, email: str) -> str:
    """Sign in as an app client; return its session token."""
    response = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": email, "password": PASSWORD},
        content_type="application/json",
    )
    return str(response.json()["meta"]["session_token"])


def age_session(client: Client, *, signed_in_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[timeouts.SIGNED_IN_AT] = now - signed_in_ago
    session[timeouts.LAST_SEEN_AT] = now - seen_ago
    session.save()


def test_session_ends_after_idle_timeout(client, member):
    sign_in(client, member.user.email)
    assert client.get("/").status_code == 200
    age_session(client, signed_in_ago=7200, seen_ago=settings.TWOFOLD_SESSION_IDLE_TIMEOUT + 5)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_session_ends_after_absolute_lifetime_even_when_active(client, member):
    sign_in(client, member.user.email)
    age_session(client, signed_in_ago=settings.SESSION_COOKIE_AGE + 5, seen_ago=1)
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_active_session_within_limits_stays(client, member):
    sign_in(client, member.user.email)
    age_session(client, signed_in_ago=3000, seen_ago=settings.TWOFOLD_SESSION_IDLE_TIMEOUT - 120)
    assert client.get("/").status_code == 200
    # The visit counts as activity: last seen moves forward.
    assert time.time() - client.session[timeouts.LAST_SEEN_AT] < 5


def test_last_seen_is_written_at_most_once_a_minute(client, member):
    sign_in(client, member.user.email)
    stamped = client.session[timeouts.LAST_SEEN_AT]
    client.get("/")
    assert client.session[timeouts.LAST_SEEN_AT] == stamped


@pytest.mark.parametrize(
    ("signed_in_ago", "seen_ago", "expired"),
    [(0, 0, False), (86401, 0, True), (100, 3601, True), (86399, 3599, False)],
)
def test_timeout_rule_with_the_default_limits(signed_in_ago, seen_ago, expired):
    now = 1_000_000.0
    session = {timeouts.SIGNED_IN_AT: now - signed_in_ago, timeouts.LAST_SEEN_AT: now - seen_ago}
    assert timeouts.is_expired(session, now) is expired


def test_unstamped_signed_in_session_is_expired():
    assert timeouts.is_expired({}, time.time()) is True


def test_sign_out_ends_the_session_on_the_server(client, member):
    sign_in(client, member.user.email)
    key = client.session.session_key
    client.post("/accounts/logout/")
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(key)
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stolen.get("/").status_code == 302


def test_app_session_token_obeys_the_same_timeouts(client, member):
    token = app_sign_in(client, member.user.email)
    app = Client()
    assert app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 200
    from allauth.headless.internal.sessionkit import session_store

    session = session_store(token)
    session[timeouts.SIGNED_IN_AT] = time.time() - settings.SESSION_COOKIE_AGE - 5
    session.save()
    assert app.get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 401


def test_app_session_activity_moves_last_seen(client, member):
    token = app_sign_in(client, member.user.email)
    from allauth.headless.internal.sessionkit import session_store

    session = session_store(token)
    session[timeouts.LAST_SEEN_AT] = time.time() - 600
    session.save()
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 200
    assert time.time() - session_store(token)[timeouts.LAST_SEEN_AT] < 5


def test_idle_app_session_is_ended_for_allauths_endpoints_too(client, member):
    token = app_sign_in(client, member.user.email)
    from allauth.headless.internal.sessionkit import session_store

    session = session_store(token)
    session[timeouts.LAST_SEEN_AT] = time.time() - settings.TWOFOLD_SESSION_IDLE_TIMEOUT - 5
    session.save()
    answer = Client().get("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert answer.status_code in (401, 410)
    assert answer.json().get("meta", {}).get("is_authenticated") is not True


def test_reauthenticated_session_still_ends_when_the_member_is_deactivated(
    client, member, administrator
):
    from twofold.organizations import flows

    sign_in(client, member.user.email)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.get("/").status_code == 200
    flows.deactivate_member(administrator, member.pk)
    flows.reactivate_member(administrator, member.pk)
    # Reactivation lets the member sign in again; it does not revive the ended session.
    assert client.get("/").status_code == 302


def _sign_out_details(member) -> list[dict]:
    from twofold.audit.events import Event
    from twofold.audit.models import AuditEvent

    events = AuditEvent.objects.filter(event=Event.SIGNED_OUT, subject=member.user).order_by("pk")
    return [event.detail for event in events]


@pytest.mark.parametrize(
    ("signed_in_ago", "seen_ago", "reason"),
    [(7200, 3605, "idle_timeout"), (86405, 1, "absolute_timeout")],
)
def test_asvs_16_3_1_a_timeout_sign_out_is_audited_with_its_reason(
    client, member, signed_in_ago, seen_ago, reason
):
    sign_in(client, member.user.email)
    age_session(client, signed_in_ago=signed_in_ago, seen_ago=seen_ago)
    assert client.get("/").status_code == 302
    assert _sign_out_details(member) == [{"reason": reason}]


def test_a_sign_out_by_the_member_carries_no_timeout_reason(client, member):
    sign_in(client, member.user.email)
    client.post("/accounts/logout/")
    assert _sign_out_details(member) == [{}]


def test_asvs_16_3_1_an_app_session_ended_by_a_timeout_is_audited(client, member):
    token = app_sign_in(client, member.user.email)
    from allauth.headless.internal.sessionkit import session_store

    session = session_store(token)
    session[timeouts.LAST_SEEN_AT] = time.time() - settings.TWOFOLD_SESSION_IDLE_TIMEOUT - 5
    session.save()
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert _sign_out_details(member) == [{"reason": "idle_timeout", "client": "app"}]
