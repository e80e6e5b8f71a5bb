"""The device list at sign-in (sessions/signals.py): one row per session, in one upsert."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from twofold.sessions.signals import record_device


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
