"""The shared backup codes page of a first factor (authenticator app, security key): where it
sends a member without a set-up, and what it shows when activating is refused."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client

from tests.conftest import freshly_signed_in
from twofold import clock
from twofold.factors import member_factors
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.totp import codes

SETTINGS = "/settings/security/"
TOTP = "/settings/security/2fa/totp/"
TOTP_CODES = "/settings/security/2fa/totp/backup-codes/"
KEYS = "/settings/security/2fa/webauthn/"
KEY_CODES = "/settings/security/2fa/webauthn/backup-codes/"


def said(response) -> str:
    """The message the response added last (earlier ones wait, unread, in the cookie)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_app_codes_before_the_app_is_confirmed_send_back_to_the_code(member):
    client = freshly_signed_in(Client(), member)
    client.get(TOTP)  # a set-up in progress, not confirmed yet
    response = client.get(TOTP_CODES)
    assert response["Location"] == TOTP
    assert said(response) == "Enter a code from your app first."
    assert not BackupCode.objects.filter(user=member.user).exists()


def test_codes_without_a_set_up_send_back_to_the_factors_page(member):
    client = freshly_signed_in(Client(), member)
    app = client.get(TOTP_CODES)
    assert app["Location"] == SETTINGS
    assert said(app) == "Start again: scan the new QR code with your app."
    key = client.get(KEY_CODES)
    assert key["Location"] == KEYS
    assert said(key) == "Register your key first."


def test_activating_without_a_set_up_says_so_and_turns_nothing_on(member):
    client = freshly_signed_in(Client(), member)
    app = client.post(TOTP_CODES, {"saved_backup_codes": "on"})
    assert app["Location"] == SETTINGS
    assert said(app) == "Start again: scan the new QR code with your app."
    key = client.post(KEY_CODES, {"saved_backup_codes": "on"})
    assert key["Location"] == SETTINGS
    assert said(key) == "Register your key first."
    assert not member_factors.has_second_factor(member.user)


def test_unsaved_codes_are_refused_on_the_page_and_not_shown_again(member):
    client = freshly_signed_in(Client(), member)
    secret = client.get(TOTP).context["setup"].secret
    client.post(TOTP, {"code": codes.code_at(secret, clock.now())})
    assert client.get(TOTP_CODES).content.count(b"<code>") == 10
    refused = client.post(TOTP_CODES, {})
    assert refused.status_code == 200
    assert b"Confirm that you have saved your backup codes." in refused.content
    assert b"<code>" not in refused.content  # shown once only
    assert f'href="{TOTP_CODES}"'.encode() in refused.content  # the same set, on this page
    assert b'action="/settings/security/2fa/totp/cancel/"' in refused.content
    assert not member_factors.has_second_factor(member.user)
    assert BackupCode.objects.filter(user=member.user, active=False).count() == 10
