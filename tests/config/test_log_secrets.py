"""Codes, passwords, tokens and secrets never reach a log, at any level, in either format: every
record of every logger is formatted (root logger at DEBUG) during an SMS sign-in through the
pages and a token exchange at the identity provider, and no secret used is in any line.

(An SSO sign-in is proved by the same rule only where it runs in-process: the OpenID Connect and
SAML peers of tests/sso are separate programs, so it is not repeated here.)
"""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.test import Client

from tests.config.test_logs import Lines, log_lines
from tests.conftest import PASSWORD, SmsOutbox
from tests.idp.test_code_flow import application, authorize, callback_parameters, pkce, redeem
from tests.idp.test_session_end import refresh, userinfo
from twofold.idp.models import Application
from twofold.organizations.models import Membership

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.parametrize("log_lines", ["text", "json"], indirect=True),
]
__all__ = ["application", "log_lines"]  # fixtures

# Request ids and JSON's microseconds are random digits: a six-digit code may match by chance.
_RANDOM_PARTS = re.compile(r"[0-9a-f]{32}")


def written(lines: list[str]) -> list[str]:
    """Each line as read, and for JSON as decoded (no secret hides behind an escape)."""
    texts = []
    for line in lines:
        if line.startswith("{"):
            record = json.loads(line)
            record.pop("time")
            line = json.dumps(record, ensure_ascii=False)
        texts.append(_RANDOM_PARTS.sub("<id>", line))
    return texts


def assert_none_logged(lines: list[str], secrets: dict[str, str]) -> None:
    assert any("twofold.access" in line for line in lines), "nothing was captured"
    for line in written(lines):
        for name, secret in secrets.items():
            assert secret not in line, f"the {name} is in a log line: {line}"


def sms_sign_in(client: Client, membership: Membership, sms_outbox: SmsOutbox) -> dict[str, str]:
    """Password, then the texted code, through the pages; the secrets it used."""
    login = {"login": membership.user.email, "password": PASSWORD}
    assert client.post("/accounts/login/", login).status_code == 302
    code = sms_outbox.last_code()
    assert client.post("/accounts/2fa/", {"code": "000000"}).status_code == 200  # a wrong one
    assert client.post("/accounts/2fa/", {"code": code}).status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # the session check's short path
    return {
        "password": PASSWORD,
        "SMS code": code,
        "session cookie": client.cookies[settings.SESSION_COOKIE_NAME].value,
    }


def test_an_sms_sign_in_through_the_pages_logs_no_password_code_or_session(
    log_lines: Lines,
    member_with_sms: Membership,
    sms_outbox: SmsOutbox,
):
    secrets = sms_sign_in(Client(), member_with_sms, sms_outbox)
    assert_none_logged(log_lines(), secrets)


def test_a_token_exchange_logs_no_client_secret_code_or_token(
    log_lines: Lines,
    application: tuple[Application, str],
    administrator: Membership,
    sms_outbox: SmsOutbox,
):
    from tests.conftest import give_sms_factor

    give_sms_factor(administrator)
    browser = Client()
    secrets = sms_sign_in(browser, administrator, sms_outbox)
    app, client_secret = application
    verifier, challenge = pkce()
    code = callback_parameters(authorize(browser, app, challenge))["code"]
    tokens = redeem(app, client_secret, code, verifier).json()
    refreshed = refresh(application, tokens["refresh_token"]).json()
    assert userinfo(refreshed["access_token"]) == 200
    assert redeem(app, client_secret, code, verifier).status_code == 400  # a replayed code

    secrets |= {"client secret": client_secret, "authorization code": code, "verifier": verifier}
    for name, issued in (("first", tokens), ("refreshed", refreshed)):
        for kind in ("access_token", "refresh_token", "id_token"):
            secrets[f"{name} {kind}"] = issued[kind]
    assert_none_logged(log_lines(), secrets)
