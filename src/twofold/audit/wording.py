"""Audit values in people's words: the factors of an event (AMR values of RFC 8176, joined with
"+", or a method's name) and a sign-in's assurance level. The CSV export keeps the codes."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

# "user" (user verification on the device) joins "hwk" in a passkey: said by "passkey".
_WORDS: dict[str, Promise] = {
    "pwd": gettext_lazy("password"),
    "sms": gettext_lazy("text message"),
    "otp": gettext_lazy("one-time code"),
    "hwk": gettext_lazy("security key"),
    "email": gettext_lazy("emailed code"),
    "fed": gettext_lazy("single sign-on"),
    "mfa": gettext_lazy("the identity provider's two-factor authentication"),
    "remembered": gettext_lazy("remembered device"),
    "totp": gettext_lazy("authenticator app"),
    "webauthn": gettext_lazy("security key or passkey"),
    "backup_code": gettext_lazy("backup code"),
}
_LEVELS: dict[str, Promise] = {
    "aal1": gettext_lazy("one factor (AAL1)"),
    "aal2": gettext_lazy("two factors (AAL2)"),
}


def factor_words(factor: str) -> str:
    """``pwd+sms`` -> "Password and text message"; an unknown code stays as it is."""
    codes = [code for code in factor.split("+") if code]
    if {"hwk", "user"} <= set(codes):
        codes = [code for code in codes if code != "user"]
        codes[codes.index("hwk")] = "passkey"
    words = [
        str(_WORDS.get(code, gettext("passkey") if code == "passkey" else code))
        for code in codes
        if code != "user"
    ]
    if not words:
        return ""
    said = words[0] if len(words) == 1 else _and(words)
    return said[:1].upper() + said[1:]


def _and(words: list[str]) -> str:
    return gettext("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


def level_words(level: str) -> str:
    """``aal2`` -> "two factors (AAL2)"."""
    return str(_LEVELS.get(level, level))
