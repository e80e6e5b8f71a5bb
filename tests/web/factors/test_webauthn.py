"""Security keys and passkeys on the settings page (web/factors/webauthn.py): adding, renaming,
removing them (the browser's part is played by the soft token)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.conftest import freshly_signed_in, give_sms_factor
from tests.factors.webauthn.soft_authenticator import SoftAuthenticator
from tests.factors.webauthn.test_flows import give_key
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import member_factors
from twofold.factors.webauthn import flows

KEYS = "/settings/security/2fa/webauthn/"


def creation_options(client: Client, *, passkey: bool = True) -> dict[str, Any]:
    """What webauthn.js fetches before ``navigator.credentials.create()``."""
    response = client.post(
        "/api/v1/two-factor/webauthn",
        json.dumps({"passkey": passkey}),
        content_type="application/json",
    )
    return response.json()["data"]["creation_options"]


def test_settings_page_adds_a_first_key_then_backup_codes(member):
    client = freshly_signed_in(Client(), member)
    page = client.get(KEYS)
    assert b'data-webauthn="create"' in page.content
    assert b"twofold/webauthn.js" in page.content
    credential = SoftAuthenticator().create(creation_options(client))
    added = client.post(KEYS, {"name": "Laptop", "credential": json.dumps(credential)})
    # The backup codes and the activation: tests/factors/test_activation.py.
    assert added["Location"] == "/settings/security/2fa/webauthn/backup-codes/"
    assert not member_factors.has_second_factor(member.user)


def test_settings_page_says_what_went_wrong_with_a_bad_answer(member):
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    options = creation_options(client)
    stranger = SoftAuthenticator(origin="https://evil.example").create(options)
    page = client.post(KEYS, {"name": "Laptop", "credential": json.dumps(stranger)})
    assert page.status_code == 200
    assert b"could not be checked" in page.content
    missing = client.post(KEYS, {"name": "Laptop", "credential": "not json"})
    assert b"follow your browser" in missing.content
    assert flows.keys(member.user) == []


def test_settings_page_renames_and_removes_keys(member):
    give_sms_factor(member)
    give_key(member.user, name="One")
    give_key(member.user, name="Two")
    client = freshly_signed_in(Client(), member)
    one, two = flows.keys(member.user)
    client.post(f"{KEYS}{one.id}/rename/", {"name": "Desk key"})
    client.post(f"{KEYS}{two.id}/remove/")
    assert [k.name for k in flows.keys(member.user)] == ["Desk key"]
    assert b"Desk key" in client.get(KEYS).content
    assert AuditEvent.objects.filter(event=Event.FACTOR_REMOVED, factor="webauthn").exists()


def test_keys_page_asks_a_member_with_another_factor_to_confirm_it_before_adding(member):
    give_sms_factor(member)
    page = freshly_signed_in(Client(), member).get(KEYS).content.decode()
    assert "Confirm it is you" in page
    assert "/accounts/2fa/reauthenticate/?next=" in page
    assert 'id="add-key"' not in page
    confirmed = freshly_signed_in(Client(), member, second_factor="sms").get(KEYS)
    assert 'id="add-key"' in confirmed.content.decode()
