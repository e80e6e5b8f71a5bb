"""Second-factor secrets encrypted at rest with a key kept outside the database.

DESIGN.md: allauth's ``DefaultMFAAdapter.encrypt()`` stores TOTP secrets in clear; here they are
sealed with AES-256-GCM (authenticated encryption: a changed ciphertext, or another key, fails
instead of decrypting to garbage) under ``TWOFOLD_FACTOR_KEY``. A stolen database alone reveals
no secret (ASVS 11.4 / 13.3: secrets protected at rest).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "aesgcm1:"  # names the scheme, so that a later one can be told apart
NONCE_BYTES = 12  # 96-bit nonce, random per encryption (NIST SP 800-38D 8.2.2)
# Binds each ciphertext to its use: a value sealed for something else does not open here.
ASSOCIATED_DATA = b"twofold/factor-secret"
PENDING_BACKUP_CODE = b"twofold/pending-backup-code"  # a backup code until its activation


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted: another key, or a changed value."""


def _cipher(key: str | None = None) -> AESGCM:
    raw = key if key is not None else str(settings.TWOFOLD.factor_key)
    return AESGCM(base64.urlsafe_b64decode(raw.encode()))


def encrypt(text: str, *, key: str | None = None, use: bytes = ASSOCIATED_DATA) -> str:
    """``text`` sealed for ``use`` (the associated data): it opens only for that use."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(key).encrypt(nonce, text.encode(), use)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str, *, key: str | None = None, use: bytes = ASSOCIATED_DATA) -> str:
    if not stored.startswith(PREFIX):
        raise SecretUnreadable("This second-factor secret was not stored encrypted.")
    try:
        blob = base64.urlsafe_b64decode(stored[len(PREFIX) :].encode())
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return _cipher(key).decrypt(nonce, sealed, use).decode()
    except (InvalidTag, ValueError) as error:
        raise SecretUnreadable(
            "A second-factor secret cannot be decrypted: TWOFOLD_FACTOR_KEY is not the key it "
            "was encrypted with, or the stored value was changed."
        ) from error
