"""Audit values in people's words on the pages (audit/wording.py; issue 19)."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from twofold.audit.models import AuditEvent
from twofold.audit.wording import factor_words


@pytest.mark.parametrize(
    ("factor", "said"),
    [
        ("pwd", "Password"),
        ("pwd+sms", "Password and text message"),
        ("pwd+otp", "Password and one-time code"),
        ("hwk+user", "Passkey"),
        ("fed+mfa", "Single sign-on and the identity provider's two-factor authentication"),
        ("pwd+remembered", "Password and remembered device"),
        ("totp", "Authenticator app"),
        ("backup_code", "Backup code"),
        ("something_new", "Something_new"),
        ("", ""),
    ],
)
def test_factors_are_said_in_words(factor: str, said: str) -> None:
    assert factor_words(factor) == said


def test_the_assurance_level_is_said_in_words() -> None:
    event = AuditEvent(event="sign_in.succeeded", factor="pwd+sms", detail={"aal": "aal2"})
    assert event.factor_label == "Password and text message"
    assert event.detail_lines == ["Assurance: two factors (AAL2)"]


def test_security_page_shows_the_factors_in_words(client, member_with_sms, sms_outbox) -> None:
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})

    page = client.get("/settings/security/").content.decode()

    assert "(Password and text message)" in page
    assert "pwd+sms" not in page
