"""A first factor's last steps, shared by the authenticator app and the security key on the pages
and in the API (factors/activation.py; web/factors/activation.py, api/factors/activation.py):
ten backup codes shown, "I have saved them" required, then two-factor authentication is on, all
at once. What comes before (a QR code and a code; a key's creation options and answer) is each
factor's own (tests/web/factors/, tests/api/factors/)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client

from tests.conftest import freshly_signed_in
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import member_factors, methods
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.totp import codes as totp_codes
from twofold.organizations.models import Membership

PAGE, API = "page", "api"
SETTINGS = "/settings/security/"
CODE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{5})</code>")


def api(client: Client, path: str, body: dict[str, Any] | None = None) -> HttpResponse:
    return client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")


def data(response: HttpResponse) -> Any:
    assert response.status_code in (200, 202), response.content[:300]
    return response.json()["data"]


def app_confirmed(client: Client, surface: str) -> None:
    """The app has the key and gave a right code: its backup codes come next."""
    if surface == PAGE:
        secret = client.get("/settings/security/2fa/totp/").context["setup"].secret
        code = totp_codes.code_at(secret, clock.now())
        confirmed = client.post("/settings/security/2fa/totp/", {"code": code})
        assert confirmed["Location"] == "/settings/security/2fa/totp/backup-codes/"
        return
    secret = data(api(client, "/two-factor/totp"))["secret"].replace(" ", "")
    code = totp_codes.code_at(secret, clock.now())
    assert data(api(client, "/two-factor/totp/confirm", {"code": code}))["totp_active"] is False


def key_registered(client: Client, surface: str) -> None:
    """The browser answered the key's creation options: its backup codes come next."""
    options = data(api(client, "/two-factor/webauthn", {"passkey": True}))["creation_options"]
    credential = SoftAuthenticator().create(options)
    if surface == PAGE:
        registered = client.post(
            "/settings/security/2fa/webauthn/",
            {"name": "Laptop", "credential": json.dumps(credential)},
        )
        assert registered["Location"] == "/settings/security/2fa/webauthn/backup-codes/"
        return
    body = {"name": "Laptop", "credential": credential}
    assert data(api(client, "/two-factor/webauthn/complete", body))["webauthn_active"] is False


FACTORS = [
    pytest.param(
        methods.TOTP,
        app_confirmed,
        "/settings/security/2fa/totp/backup-codes/",
        "/two-factor/totp",
        id="app",
    ),
    pytest.param(
        methods.WEBAUTHN,
        key_registered,
        "/settings/security/2fa/webauthn/backup-codes/",
        "/two-factor/webauthn",
        id="key",
    ),
]


def shown_then_refused_unsaved(client: Client, surface: str, page: str, endpoint: str) -> list[str]:
    """The backup codes, then the activation without "I have saved them": refused."""
    if surface == PAGE:
        shown = CODE.findall(client.get(page).content.decode())
        refused = client.post(page, {})
        assert refused.status_code == 200
        assert b"Confirm that you have saved your backup codes." in refused.content
        return shown
    shown = data(api(client, f"{endpoint}/backup-codes"))["codes"]
    refused = api(client, f"{endpoint}/activate", {"saved_backup_codes": False})
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert (error["code"], error["param"]) == ("backup_codes_not_saved", "saved_backup_codes")
    return list(shown)


def activated(client: Client, surface: str, page: str, endpoint: str) -> None:
    if surface == PAGE:
        done = client.post(page, {"saved_backup_codes": "on"})
        assert done["Location"] == SETTINGS
        return
    status = data(api(client, f"{endpoint}/activate", {"saved_backup_codes": True}))
    assert status["enabled"] is True
    assert "other_sessions" in status


@pytest.mark.parametrize("surface", [PAGE, API])
@pytest.mark.parametrize(("method", "set_up", "page", "endpoint"), FACTORS)
def test_a_first_factor_is_on_once_its_backup_codes_are_saved(
    member: Membership,
    surface: str,
    method: str,
    set_up: Callable[[Client, str], None],
    page: str,
    endpoint: str,
) -> None:
    client = freshly_signed_in(Client(), member)
    set_up(client, surface)

    shown = shown_then_refused_unsaved(client, surface, page, endpoint)

    assert len(shown) == 10
    assert not member_factors.has_second_factor(member.user)  # nothing is on before the tick
    assert not BackupCode.objects.filter(user=member.user, active=True).exists()
    assert mail.outbox == []

    activated(client, surface, page, endpoint)

    assert member_factors.methods(member.user) == [method]
    assert BackupCode.objects.filter(user=member.user, active=True).count() == 10
    assert AuditEvent.objects.get(event=Event.TWO_FACTOR_ENABLED).factor == method
    assert [m.to for m in mail.outbox] == [[member.user.email]]
    assert backup_codes.consume_backup_code(member.user, shown[0]) == 9  # the codes shown work
