"""Password change and reset through allauth, on pages and in the API (ASVS 6.2.2, 6.2.3, 6.4)."""

from __future__ import annotations

import json
import re

from django.core import mail
from django.test import Client

from tests.conftest import PASSWORD

NEW_PASSWORD = "an entirely new passphrase"


def sign_in(client: Client, email: str, password: str) -> int:
    return client.post("/accounts/login/", {"login": email, "password": password}).status_code


def test_asvs_6_2_3_password_change_requires_the_current_password(member_client, member):
    refused = member_client.post(
        "/accounts/password/change/",
        {"oldpassword": "not my password", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors["oldpassword"]
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_asvs_6_2_2_member_can_change_their_password(member_client, member):
    response = member_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
    # The member is told by email (ASVS 6.3.7).
    assert any("password" in m.subject.lower() for m in mail.outbox)


def test_password_change_applies_the_password_policy(member_client, member):
    response = member_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "password1", "password2": "password1"},
    )
    assert response.status_code == 200
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)


def test_password_reset_by_emailed_link(client, member):
    client.post("/accounts/password/reset/", {"email": member.user.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", mail.outbox[-1].body)
    assert link is not None
    form_page = client.get(link.group(0), follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0)
    done = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert sign_in(Client(), member.user.email, NEW_PASSWORD) == 302


def test_password_reset_for_unknown_email_looks_the_same(client, member):
    known = client.post("/accounts/password/reset/", {"email": member.user.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@acme.test"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])


def test_password_reset_through_the_api(client, member):
    response = client.post(
        "/_allauth/browser/v1/auth/password/request",
        json.dumps({"email": member.user.email}),
        content_type="application/json",
    )
    assert response.status_code == 200
    key = re.search(r"/accounts/password/reset/key/(\S+)/", mail.outbox[-1].body)
    assert key is not None
    reset = client.post(
        "/_allauth/browser/v1/auth/password/reset",
        json.dumps({"key": key.group(1), "password": NEW_PASSWORD}),
        content_type="application/json",
    )
    assert reset.status_code in (200, 401), reset.content
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
