"""The member's sessions in the JSON API (api/sessions.py; ASVS 7.4.3, 7.5.2)."""

from __future__ import annotations

import json

from django.test import Client

from tests.conftest import PASSWORD
from tests.sessions.test_member_sessions import SAFARI, browser, signed_in
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.sessions import member_sessions as sessions

SESSIONS = "/api/v1/sessions"
OTHERS = "/api/v1/sessions/others"


def listing(client: Client, **headers) -> list[dict]:
    response = client.get(SESSIONS, **headers)
    assert response.status_code == 200, response.content
    return response.json()["data"]["sessions"]


def app_sign_in(email: str) -> str:
    response = Client(HTTP_USER_AGENT="okhttp/4.12.0").post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    return str(response.json()["meta"]["session_token"])


def test_asvs_7_5_2_lists_own_sessions_current_first(member, administrator):
    laptop = browser(member.user.email, ip="203.0.113.7")
    browser(member.user.email, SAFARI, ip="198.51.100.9")
    browser(administrator.user.email)  # someone else's: never listed
    listed = listing(laptop)
    assert [(s["device"], s["ip"], s["current"]) for s in listed] == [
        ("Firefox on Windows", "203.0.113.7", True),
        ("Safari on iPhone", "198.51.100.9", False),
    ]
    assert set(listed[0]) == {
        "id",
        "device",
        "user_agent",
        "ip",
        "signed_in_at",
        "last_seen_at",
        "current",
    }


def test_asvs_7_5_2_end_one_session_signs_it_out(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    other = next(s for s in listing(laptop) if not s["current"])
    response = laptop.delete(f"{SESSIONS}/{other['id']}")
    assert response.status_code == 200
    assert [s["current"] for s in response.json()["data"]["sessions"]] == [True]
    assert not signed_in(phone)
    assert AuditEvent.objects.filter(event=Event.SESSION_ENDED, subject=member.user).count() == 1


def test_asvs_7_5_2_session_not_yours_is_404_and_stays(member, administrator):
    laptop = browser(member.user.email)
    theirs = browser(administrator.user.email)
    their_id = listing(theirs)[0]["id"]
    for session_id in (their_id, 999999):
        response = laptop.delete(f"{SESSIONS}/{session_id}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "session_not_found"
    assert signed_in(theirs)


def test_own_current_session_is_a_400_sign_out_instead(member):
    laptop = browser(member.user.email)
    response = laptop.delete(f"{SESSIONS}/{listing(laptop)[0]['id']}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "current_session"
    assert signed_in(laptop)


def test_asvs_7_5_2_end_all_others(member):
    laptop = browser(member.user.email)
    phones = [browser(member.user.email, SAFARI) for _ in range(2)]
    response = laptop.delete(OTHERS)
    assert response.status_code == 200
    assert response.json()["data"]["ended"] == 2
    assert not any(signed_in(phone) for phone in phones)
    assert signed_in(laptop)


def test_cookie_caller_needs_the_csrf_token_and_the_right_method(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = laptop.cookies
    refused = strict.delete(OTHERS)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "csrf_failed"
    assert laptop.get(OTHERS).status_code == 405
    assert laptop.post(SESSIONS).status_code == 405
    assert Client().get(SESSIONS).status_code == 401
    assert signed_in(phone)


def test_app_session_token_is_the_current_one_and_ends_the_browsers(member):
    laptop = browser(member.user.email)
    token = app_sign_in(member.user.email)
    listed = listing(Client(), HTTP_X_SESSION_TOKEN=token)
    assert (listed[0]["device"], listed[0]["current"]) == ("Android app", True)
    response = Client().delete(OTHERS, HTTP_X_SESSION_TOKEN=token)
    assert response.json()["data"]["ended"] == 1
    assert not signed_in(laptop)
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 200


def test_allauths_own_endpoint_ends_sessions_with_the_same_audit(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    other = next(s for s in sessions.list_sessions(member.user, laptop.session) if not s.current)
    response = laptop.delete(
        "/_allauth/browser/v1/auth/sessions",
        json.dumps({"sessions": [other.id]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert not signed_in(phone)
    ended = AuditEvent.objects.get(event=Event.SESSION_ENDED)
    assert ended.detail["device"] == "Safari on iPhone"


# --- Factor changes tell the client how many sessions it could end (ASVS 7.4.3) ---------------


def with_password_and_sms(member_with_sms, sms_outbox) -> Client:
    client = browser(member_with_sms.user.email)
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})["Location"] == "/"
    return client


def test_asvs_7_4_3_new_backup_codes_carry_other_sessions(member_with_sms, sms_outbox):
    laptop = with_password_and_sms(member_with_sms, sms_outbox)
    phone = browser(member_with_sms.user.email, SAFARI)
    phone.post("/accounts/2fa/backup-code/", {"code": member_with_sms.backup_codes[0]})
    response = laptop.post(
        "/api/v1/two-factor/backup-codes/regenerate", content_type="application/json"
    )
    assert response.json()["data"]["other_sessions"] == 1
    assert signed_in(phone)  # only offered
    laptop.delete(OTHERS)
    assert not signed_in(phone)


def test_asvs_7_4_3_turning_two_factor_off_carries_other_sessions(member_with_sms, sms_outbox):
    laptop = with_password_and_sms(member_with_sms, sms_outbox)
    response = laptop.delete("/api/v1/two-factor")
    assert response.json()["data"]["other_sessions"] == 0  # no other session
    assert "other_sessions" not in laptop.get("/api/v1/two-factor").json()["data"]
