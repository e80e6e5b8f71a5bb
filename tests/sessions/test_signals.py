"""Session bookkeeping at sign-in and re-authentication (sessions/signals.py): a new session id
(ASVS 7.2.4), the device list with one row per session in one upsert, ended sessions dropped."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.conftest import PASSWORD
from twofold.sessions.signals import record_device


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in_request(user, user_agent: str, ip: str):
    request = RequestFactory().post("/", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    request.user = user
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.session.create()
    return request


def test_a_sign_in_adds_its_session_to_the_device_list(member):
    request = signed_in_request(member.user, "Firefox/128.0", "203.0.113.7")

    record_device(None, request=request, user=member.user)

    row = UserSession.objects.get(session_key=request.session.session_key)
    assert (row.user, row.ip, row.user_agent) == (member.user, "203.0.113.7", "Firefox/128.0")


def test_a_session_key_seen_before_updates_its_row_as_allauth_did(member, make_member):
    other = make_member("other@acme.test", organization=member.organization)
    request = signed_in_request(member.user, "Firefox/128.0", "203.0.113.7")
    earlier = timezone.now() - timedelta(hours=1)
    UserSession.objects.create(
        user=other.user,
        session_key=request.session.session_key,
        ip="198.51.100.1",
        user_agent="curl/8",
        created_at=earlier,
        last_seen_at=earlier,
    )

    record_device(None, request=request, user=member.user)

    row = UserSession.objects.get(session_key=request.session.session_key)
    assert (row.user, row.ip, row.user_agent) == (member.user, "203.0.113.7", "Firefox/128.0")
    assert row.created_at == earlier
    assert row.last_seen_at > earlier
    assert UserSession.objects.count() == 1


def test_new_session_id_at_sign_in(client, member):
    client.get("/accounts/login/")
    client.session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = sign_in(client, member.user.email)
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert Client(cookies=None).get("/").status_code == 302


def test_session_id_rotates_and_old_id_is_dead_after_sign_in(client, member):
    client.get("/accounts/login/")
    session = client.session
    session["probe"] = 1
    session.save()
    old_key = session.session_key
    sign_in(client, member.user.email)
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(old_key)


def test_asvs_7_2_4_new_session_id_at_reauthentication(client, member):
    sign_in(client, member.user.email)
    before = client.session.session_key
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    after = client.session.session_key
    assert after != before
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(before)
    assert client.get("/").status_code == 200


def test_device_list_drops_ended_sessions_at_the_next_sign_in_and_keeps_live_ones(member):
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended, expired, live = Client(), Client(), Client()
    for browser in (ended, expired, live):
        sign_in(browser, member.user.email)
    ended_key, expired_key = ended.session.session_key, expired.session.session_key
    ended.post("/accounts/logout/")
    Session.objects.filter(session_key=expired_key).update(expire_date=timezone.now())
    sign_in(Client(), member.user.email)
    listed = set(UserSession.objects.filter(user=member.user).values_list("session_key", flat=True))
    assert live.session.session_key in listed
    assert ended_key not in listed
    assert expired_key not in listed
    assert len(listed) == 2  # the live browser and the new sign-in
