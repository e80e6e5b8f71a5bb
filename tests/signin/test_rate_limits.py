"""Credential stuffing and brute force are slowed by allauth's rate limits (ASVS 6.1.1, 6.3.1).

They live in the shared cache (database or Redis), so every worker and instance counts together:
5 failed sign-ins per email address in 5 minutes, 10 per client address a minute, 30 sign-in
attempts per client address a minute.
"""

from __future__ import annotations

import json

from django.test import Client

from tests.conftest import PASSWORD

TOO_MANY = "Too many failed login attempts"


def sign_in_page(email: str, password: str = "wrong guess 1234") -> str:
    response = Client().post("/accounts/login/", {"login": email, "password": password})
    if response.status_code == 302:
        return "signed in"
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_asvs_6_3_1_failed_sign_ins_per_account_are_limited(member):
    answers = [sign_in_page(member.user.email) for _ in range(6)]
    assert all(TOO_MANY not in a for a in answers[:5])
    assert TOO_MANY in answers[5]
    # Even the right password is refused while the limit holds: guessing gains nothing.
    assert TOO_MANY in sign_in_page(member.user.email, PASSWORD)


def test_failed_sign_ins_are_limited_in_the_api_too(member):
    def attempt() -> list[str]:
        response = Client().post(
            "/_allauth/app/v1/auth/login",
            json.dumps({"email": member.user.email, "password": "wrong guess 1234"}),
            content_type="application/json",
        )
        assert response.status_code == 400
        return [e["code"] for e in response.json()["errors"]]

    codes = [attempt() for _ in range(6)]
    assert all("too_many_login_attempts" not in c for c in codes[:5])
    assert "too_many_login_attempts" in codes[5]


def test_failed_sign_ins_per_client_address_are_limited_across_accounts(member, make_member):
    others = [make_member(f"user{i}@acme.test", organization=member.organization) for i in range(3)]
    answers = [sign_in_page(m.user.email) for m in others for _ in range(4)]
    assert all(TOO_MANY not in a for a in answers[:10])
    assert all(TOO_MANY in a for a in answers[10:])


def test_sign_in_attempts_per_client_address_answer_429(member):
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"login": f"x{i}@acme.test", "password": "x"}).status_code
        for i in range(31)
    ]
    assert statuses[:30].count(429) == 0
    assert statuses[30] == 429


def test_asvs_16_3_1_a_sign_in_refused_by_the_limit_is_audited(member):
    from twofold.audit.events import Event
    from twofold.audit.models import AuditEvent

    for _ in range(6):
        sign_in_page(member.user.email)
    failures = AuditEvent.objects.filter(event=Event.SIGN_IN_FAILED, subject=member.user)
    assert failures.count() == 6
    assert [e.detail for e in failures.order_by("pk")][-2:] == [{}, {"rate_limited": True}]


def test_asvs_16_3_1_an_api_sign_in_refused_by_the_limit_is_audited(member):
    from twofold.audit.events import Event
    from twofold.audit.models import AuditEvent

    for _ in range(6):
        Client().post(
            "/_allauth/app/v1/auth/login",
            json.dumps({"email": member.user.email, "password": "wrong guess 1234"}),
            content_type="application/json",
        )
    failures = AuditEvent.objects.filter(event=Event.SIGN_IN_FAILED, subject=member.user)
    assert [e.detail for e in failures.order_by("pk")][-1] == {"rate_limited": True}
