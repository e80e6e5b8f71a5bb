"""TOTP codes (RFC 6238) of an authenticator app: generation, checking, and replay refusal.

The code generator is allauth's (``hotp_value``: RFC 4226 HOTP with SHA-1, 6 digits, over 30 s
steps; tested with the RFC 6238 Appendix B vectors). Checking adds what RFC 6238 section 5.2
requires: "the verifier MUST NOT accept the second attempt of the same OTP after the successful
validation has been issued". The app's last accepted time step is kept with the factor in the
database (``TotpLastStep``), never only in a cache: a flushed, restarted or replaced Redis must
not reopen a code already used. A code is accepted only when its step is newer than that one,
through one conditional UPDATE, so of two requests with the same code, on any workers, exactly
one succeeds, and an older code still inside the drift window is refused after a newer one.
"""

from __future__ import annotations

from datetime import datetime

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, generate_totp_secret, hotp_value
from django.db import IntegrityError, transaction

from twofold.factors.totp.models import TotpLastStep

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


def mark_used(authenticator_id: int, step: int) -> bool:
    """Record ``step`` as the app's last used step; False when it is not newer than the one
    recorded (a replay, or an older code after a newer one), on any worker, whatever the cache.

    Two different codes of the same app posted at the same moment may both pass, each once, when
    the older arrives first.
    """
    # One conditional UPDATE: of requests racing with one code, only one finds the older step.
    if TotpLastStep.objects.filter(authenticator_id=authenticator_id, step__lt=step).update(
        step=step
    ):
        return True
    return _first_use(authenticator_id, step)


def _first_use(authenticator_id: int, step: int) -> bool:
    """No step is recorded for the app yet (an app created elsewhere): the first code records
    it; the primary key lets one of several racing inserts in, and refuses a row that exists."""
    try:
        with transaction.atomic():
            TotpLastStep.objects.create(authenticator_id=authenticator_id, step=step)
    except IntegrityError:
        return False  # the row exists with this step or a newer one (the UPDATE did not match)
    return True
