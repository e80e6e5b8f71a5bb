"""TOTP codes (RFC 6238) of an authenticator app: generation, checking, and replay refusal.

The code generator is allauth's (``hotp_value``: RFC 4226 HOTP with SHA-1, 6 digits, over 30 s
steps; tested with the RFC 6238 Appendix B vectors). Checking adds what RFC 6238 section 5.2
requires: "the verifier MUST NOT accept the second attempt of the same OTP after the successful
validation has been issued". The used time step is recorded in the shared cache (the database
cache, or Redis with several instances; never a per-process cache, DESIGN.md) with an atomic
``add``, so of two requests with the same code, on any workers, exactly one succeeds; the
older steps still inside the drift window are marked with it, so an older code is refused after
a newer one.
"""

from __future__ import annotations

from datetime import datetime

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache

__all__ = ["code_at", "generate_totp_secret", "mark_used", "matching_step"]


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // app_settings.TOTP_PERIOD


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at ``now`` (tests, and nothing else, need it)."""
    return format_hotp_value(hotp_value(secret, step_of(now)))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, within the tolerance for clock drift; else None."""
    current = step_of(now)
    tolerance = app_settings.TOTP_TOLERANCE
    match = None
    for step in range(current - tolerance, current + tolerance + 1):
        # Every step is compared (no early exit), each in constant time.
        if compare_user_code(actual=code, expected=format_hotp_value(hotp_value(secret, step))):
            match = step
    return match


def mark_used(user_id: int, step: int) -> bool:
    """Record the step as used; False when it already was (a replay), on any worker.

    The steps before it that the drift window could still accept are marked too: once a code is
    accepted, an older one (read off the screen a minute ago, say) is refused as well. Two codes
    of the same member posted at the same moment may still both pass; each only once.
    """
    # The mark outlives every window in which this step's code can still be accepted.
    timeout = app_settings.TOTP_PERIOD * (2 * app_settings.TOTP_TOLERANCE + 2)
    if not cache.add(_used_key(user_id, step), True, timeout=timeout):
        return False
    older = range(step - 2 * app_settings.TOTP_TOLERANCE, step)
    cache.set_many({_used_key(user_id, s): True for s in older}, timeout=timeout)
    return True


def _used_key(user_id: int, step: int) -> str:
    return f"twofold.totp.used:{user_id}:{step}"
