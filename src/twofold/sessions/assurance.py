"""Assurance as data: the methods a session used (AMR) and the level they reach (AAL).

allauth records every authentication method of a session (``record_authentication``); this
module names them as RFC 8176 AMR values (``email`` where RFC 8176 has none) and derives
NIST SP 800-63B-4 levels from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

AAL = Literal["aal1", "aal2"]

# allauth method (and MFA type) -> RFC 8176 "amr" value.
_AMR = {
    "password": "pwd",
    # An emailed sign-in code is not an authenticator at AAL2 (NIST SP 800-63B-4 3.1.3).
    "code": "email",
    "socialaccount": "fed",
    "mfa:totp": "otp",
    "mfa:recovery_codes": "otp",
    "mfa:webauthn": "hwk",
    "mfa:sms": "sms",
    "mfa:backup_codes": "otp",
    # An SSO sign-in whose 2FA policy was met: ``mfa`` when the identity provider asserted it
    # (OIDC ``amr``/``acr``, SAML AuthnContextClassRef), else no AMR value of its own.
    "mfa:idp": "mfa",
    # A remembered browser (signin/remembered.py): no authenticator, so no second factor.
    "remembered_device": "remembered",
}
_IDP = "mfa:idp"
_SECOND_FACTORS = {"otp", "sms", "hwk"}
_FIRST_FACTORS = {"pwd", "fed"}
# allauth's session keys (account/internal/flows/login.py); pinned allauth, covered by tests.
_RECORDS_KEY = "account_authentication_methods"
_RECORDS_USER_KEY = "account_authentication_methods_user"


def records(
    session: SessionBase | Mapping[str, Any], user: AbstractBaseUser
) -> list[Mapping[str, Any]]:
    """The methods recorded in ``session`` by allauth, if they were recorded for ``user``."""
    return records_of_user_id(session, user.pk)


def records_of_user_id(
    session: SessionBase | Mapping[str, Any], user_id: Any
) -> list[Mapping[str, Any]]:
    """As :func:`records`, for the user of that primary key."""
    if session.get(_RECORDS_USER_KEY) != str(user_id):
        return []
    return list(session.get(_RECORDS_KEY, []))


def amr(recorded: Iterable[Mapping[str, Any]]) -> list[str]:
    """The distinct AMR values of the recorded methods, in the order they happened."""
    values: list[str] = []
    for entry in recorded:
        method = str(entry.get("method"))
        key = f"mfa:{entry.get('type')}" if method == "mfa" else method
        if key == _IDP and not entry.get("asserted"):
            continue
        found = [_AMR.get(key, method)]
        if key == "mfa:webauthn" and entry.get("passwordless"):
            # A passkey: possession, and user verification on the device (RFC 8176 "user").
            found.append("user")
        values.extend(value for value in found if value not in values)
    return values


def level(amr_values: Iterable[str], *, federated_mfa: bool = False) -> AAL:
    """aal2 when a second factor joined the first (a password, or an identity provider's sign-in:
    an SSO login followed by Twofold's own second factor is two factors, DESIGN.md), or an SSO
    login whose policy is satisfied."""
    values = set(amr_values)
    if values & _FIRST_FACTORS and values & _SECOND_FACTORS:
        return "aal2"
    if {"hwk", "user"} <= values:  # a passkey: multi-factor on its own (NIST SP 800-63B-4 3.1.7)
        return "aal2"
    if "fed" in values and federated_mfa:
        return "aal2"
    return "aal1"


def session_level(recorded: Iterable[Mapping[str, Any]]) -> AAL:
    """The level of a session from its recorded methods (an SSO sign-in whose policy was met
    leaves an ``mfa``/``idp`` record: aal2, DESIGN.md)."""
    entries = list(recorded)
    policy_met = any(e.get("method") == "mfa" and e.get("type") == "idp" for e in entries)
    return level(amr(entries), federated_mfa=policy_met)
