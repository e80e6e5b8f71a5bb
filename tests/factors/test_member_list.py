"""The members list (factors/member_list.py) with authenticator apps: shown, filtered, at a
constant query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import give_sms_factor, give_totp_factor
from twofold.factors.models import PreferredFactor

MEMBERS = "/account/members/"


def colleague(administrator, email: str, *, totp: bool, sms: bool, prefers: str | None = None):
    membership = type(administrator).objects.create(
        user=type(administrator.user).objects.create_user(email, "x" * 12),
        organization=administrator.organization,
    )
    if totp:
        give_totp_factor(membership)
    if sms:
        give_sms_factor(membership, f"+4179{abs(hash(email)) % 10**7:07d}")
    if prefers:
        PreferredFactor.objects.create(user=membership.user, method=prefers)
    return membership


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [MEMBERS, f"{MEMBERS}?two_factor=off", "/api/v1/members"])
def test_listing_members_with_authenticator_apps_takes_a_constant_number_of_queries(
    administrator, administrator_client, url
):
    colleague(administrator, "m0@acme.test", totp=True, sms=False)
    queries(administrator_client, url)  # session and caches warmed up
    with_2 = queries(administrator_client, url)
    colleague(administrator, "m1@acme.test", totp=True, sms=True, prefers="sms")
    colleague(administrator, "m2@acme.test", totp=False, sms=True)
    colleague(administrator, "m3@acme.test", totp=True, sms=True)
    colleague(administrator, "m4@acme.test", totp=False, sms=False)
    assert queries(administrator_client, url) == with_2


def test_members_api_shows_each_members_factors(administrator, administrator_client):
    colleague(administrator, "app@acme.test", totp=True, sms=False)
    colleague(administrator, "both@acme.test", totp=True, sms=True, prefers="sms")
    listed = administrator_client.get("/api/v1/members").json()["data"]
    factors = {m["email"]: m["two_factor"] for m in listed}
    assert factors["app@acme.test"]["methods"] == ["totp"]
    assert factors["app@acme.test"]["method"] == "totp"
    assert factors["both@acme.test"]["methods"] == ["totp", "sms"]
    assert factors["both@acme.test"]["method"] == "sms"
    off = administrator_client.get("/api/v1/members", {"two_factor": "off"}).json()["data"]
    assert {m["email"] for m in off} == {"ada@acme.test"}


def test_members_page_shows_an_app_badge(administrator, administrator_client):
    colleague(administrator, "app@acme.test", totp=True, sms=False)
    page = administrator_client.get(MEMBERS).content.decode()
    assert '<span class="badge ok">App</span>' in page
