"""A member's sessions: list, end one, end all others, and the offer after a change of factors
(sessions/member_sessions.py; ASVS 7.4.3, 7.5.2)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError, NotFound
from twofold.sessions import member_sessions as sessions

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ENGINES = ["twofold.sessions.stores.db", "twofold.sessions.stores.cached_db"]


@pytest.fixture(params=ENGINES, ids=["db", "cached_db"])
def session_engine(request, settings):
    """Both stores Twofold configures: database sessions, and cached ones (with Redis)."""
    settings.SESSION_ENGINE = request.param
    return request.param


def browser(email: str, user_agent: str = FIREFOX, ip: str = "203.0.113.7") -> Client:
    """A browser of its own, signed in through the sign-in form (so it is on the list)."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_asvs_7_5_2_member_sees_each_session_with_device_ip_and_times(member):
    laptop = browser(member.user.email, FIREFOX, "203.0.113.7")
    browser(member.user.email, SAFARI, "198.51.100.9")
    listed = sessions.list_sessions(member.user, laptop.session)
    assert [(s.device, s.ip, s.current) for s in listed] == [
        ("Firefox on Windows", "203.0.113.7", True),
        ("Safari on iPhone", "198.51.100.9", False),
    ]
    assert all(s.signed_in_at and s.last_seen_at for s in listed)


def test_asvs_7_5_2_ended_session_is_signed_out_at_its_next_request(member, session_engine):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    assert signed_in(phone)
    phone_session = next(
        s for s in sessions.list_sessions(member.user, laptop.session) if not s.current
    )
    sessions.end_session(member.user, phone_session.id, laptop.session)
    assert not signed_in(phone)
    assert phone.get("/")["Location"].startswith("/accounts/login/")
    assert signed_in(laptop)


def test_asvs_7_5_2_end_all_others_keeps_only_the_current_one(member, session_engine):
    laptop = browser(member.user.email)
    others = [browser(member.user.email, SAFARI) for _ in range(2)]
    assert sessions.end_other_sessions(member.user, laptop.session) == 2
    assert not any(signed_in(other) for other in others)
    assert signed_in(laptop)
    assert [s.current for s in sessions.list_sessions(member.user, laptop.session)] == [True]


def test_asvs_7_5_2_session_of_someone_else_is_not_found_and_stays(member, administrator):
    laptop = browser(member.user.email)
    theirs = browser(administrator.user.email)
    their_id = sessions.list_sessions(administrator.user, theirs.session)[0].id
    with pytest.raises(NotFound) as raised:
        sessions.end_session(member.user, their_id, laptop.session)
    assert raised.value.code == "session_not_found"
    assert signed_in(theirs)
    assert sessions.end_other_sessions(member.user, laptop.session) == 0
    assert signed_in(theirs)


def test_the_current_session_is_ended_by_signing_out_not_from_the_list(member):
    laptop = browser(member.user.email)
    own = sessions.list_sessions(member.user, laptop.session)[0]
    with pytest.raises(FlowError) as raised:
        sessions.end_session(member.user, own.id, laptop.session)
    assert raised.value.code == "current_session"
    assert signed_in(laptop)


def test_ending_sessions_is_audited_without_the_session_key(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    phone_key = phone.session.session_key
    phone_id = sessions.list_sessions(member.user, laptop.session)[1].id
    sessions.end_session(member.user, phone_id, laptop.session)
    browser(member.user.email, SAFARI)
    sessions.end_other_sessions(member.user, laptop.session)
    ended = AuditEvent.objects.get(event=Event.SESSION_ENDED)
    assert (ended.subject, ended.detail["device"]) == (member.user, "Safari on iPhone")
    assert phone_key not in str(ended.detail)
    others = AuditEvent.objects.get(event=Event.OTHER_SESSIONS_ENDED)
    assert (others.subject, others.detail) == (member.user, {"count": 1})


def test_sessions_no_longer_signed_in_are_not_listed(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    phone.post("/accounts/logout/")
    tablet = browser(member.user.email, SAFARI)
    session = tablet.session  # its password hash goes stale, as after a change elsewhere
    session["_auth_user_hash"] = "stale"
    session.save()
    assert [s.current for s in sessions.list_sessions(member.user, laptop.session)] == [True]
    assert sessions.other_sessions(member.user, laptop.session) == 0


def test_asvs_7_4_3_offer_after_a_change_counts_the_others_until_answered(member):
    current = browser(member.user.email).session
    browser(member.user.email, SAFARI)
    assert sessions.pending_offer(member.user, current) == 0  # nothing changed yet
    assert sessions.offer_to_end_other_sessions(member.user, current) == 1
    assert sessions.pending_offer(member.user, current) == 1
    sessions.decline_offer(current)
    assert sessions.pending_offer(member.user, current) == 0
    sessions.offer_to_end_other_sessions(member.user, current)
    sessions.end_other_sessions(member.user, current)
    assert sessions.pending_offer(member.user, current) == 0


def test_asvs_7_4_3_no_offer_when_there_is_no_other_session(member):
    current = browser(member.user.email).session
    current[sessions.OFFER] = True  # left from an earlier change
    assert sessions.offer_to_end_other_sessions(member.user, current) == 0
    assert sessions.OFFER not in current
