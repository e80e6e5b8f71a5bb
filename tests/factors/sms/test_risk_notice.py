"""SMS enrollment tells the member the risk of text messages and recommends a stronger factor
(NIST SP 800-63B-4 "restricted" authenticator; issue 6)."""

from __future__ import annotations

import yaml
from django.test import Client

from tests.conftest import PASSWORD, require_two_factor
from twofold.api.spec import OURS

NOTICE = "Text messages can be intercepted or redirected"


def text(response) -> str:
    return response.content.decode()


def test_settings_phone_step_shows_the_risk_and_the_authenticator_app(member):
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    page = text(client.get("/settings/security/2fa/enable/"))
    assert NOTICE in page
    assert "SIM swap" in page
    assert "An authenticator app is safer" in page
    assert 'href="/settings/security/2fa/totp/"' in page


def test_forced_enrollment_phone_step_shows_the_risk(member, administrator):
    require_two_factor(administrator.organization)
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    page = text(client.get("/accounts/2fa/enroll/number/"))
    assert NOTICE in page
    assert "SIM swap" in page


def test_api_documents_the_risk_where_a_number_is_entered():
    spec = yaml.safe_load(OURS.read_text())
    for path in ("/api/v1/two-factor/sms", "/_allauth/{client}/v1/auth/2fa/enroll/sms"):
        description = spec["paths"][path]["post"]["description"]
        assert "SIM swap" in description, path
