"""After "Later", every page names the deadline of the account's mandatory 2FA until it is set up
(issue 19)."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PASSWORD, give_sms_factor, require_two_factor
from twofold.factors.policy import rule_of
from twofold.organizations.models import Membership

PAGES = ("/", "/settings/security/", "/accounts/sessions/")


def _later(member: Membership) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/enroll/later/")["Location"] == "/"
    return client


def test_after_later_every_page_shows_the_deadline_until_two_factor_is_on(member):
    organization = require_two_factor(member.organization, grace_days=7)
    deadline = rule_of(organization).grace_ends_at
    client = _later(member)

    for path in PAGES:
        page = client.get(path).content.decode()
        assert "grace-banner" in page, path
        assert f"Set it up by {deadline:%-d %B %Y}" in page, path

    give_sms_factor(member)
    assert "grace-banner" not in client.get("/").content.decode()


def test_no_banner_without_mandatory_two_factor(member_client):
    assert "grace-banner" not in member_client.get("/").content.decode()
