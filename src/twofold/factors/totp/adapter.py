"""allauth.mfa's adapter, with what DESIGN.md says must change ("allauth defaults")."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from twofold.factors.totp import crypto


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        # allauth's default stores the TOTP secret in clear: sealed with a key outside the DB.
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
