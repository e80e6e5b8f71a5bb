"""Authenticator-app secrets at rest: AES-GCM with TWOFOLD_FACTOR_KEY, outside the database."""

from __future__ import annotations

from dataclasses import replace

import pytest
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator

from twofold.config.env import new_factor_key
from twofold.factors.totp import crypto


def test_totp_secret_encrypted_at_rest(member_with_totp):
    secret = member_with_totp.totp_secret
    stored = Authenticator.objects.get(user=member_with_totp.user).data["secret"]
    assert secret not in stored
    assert stored.startswith(crypto.PREFIX)
    assert get_adapter().decrypt(stored) == secret


def test_each_encryption_uses_a_new_nonce():
    assert crypto.encrypt("JBSWY3DPEHPK3PXP") != crypto.encrypt("JBSWY3DPEHPK3PXP")


def test_totp_secret_with_a_wrong_key_fails_clearly(settings):
    stored = crypto.encrypt("JBSWY3DPEHPK3PXP")
    settings.TWOFOLD = replace(settings.TWOFOLD, factor_key=new_factor_key())
    with pytest.raises(crypto.SecretUnreadable, match="TWOFOLD_FACTOR_KEY is not the key"):
        get_adapter().decrypt(stored)


@pytest.mark.parametrize(
    "stored",
    [
        "JBSWY3DPEHPK3PXP",  # in clear, as allauth's default adapter would have stored it
        crypto.PREFIX + "not-base64!",
        crypto.PREFIX + "AAAA",
    ],
)
def test_a_secret_not_sealed_by_us_is_refused(stored):
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(stored)


def test_a_changed_ciphertext_is_refused():
    stored = crypto.encrypt("JBSWY3DPEHPK3PXP")
    body = bytearray(stored.encode())
    body[-3] = ord("A") if body[-3] != ord("A") else ord("B")
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(body.decode())
