"""The second-factor methods by name: their order (strongest first) and what a person calls them.

Every other module names a method through these constants; the table of how each is challenged
at sign-in and re-authentication is ``factors/challenges.py``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

WEBAUTHN = "webauthn"
TOTP = "totp"
SMS = "sms"
# Strongest first: a security key resists phishing (NIST SP 800-63B-4 3.2.5); SMS is a
# "restricted" authenticator (3.1.3.3).
METHODS = (WEBAUTHN, TOTP, SMS)
LABELS = {
    WEBAUTHN: gettext_lazy("Security key or passkey"),
    TOTP: gettext_lazy("Authenticator app"),
    SMS: gettext_lazy("Text message (SMS)"),
}

# Not a method one sets up, but a way to pass the second-factor step and re-authenticate.
BACKUP_CODE = "backup_code"
