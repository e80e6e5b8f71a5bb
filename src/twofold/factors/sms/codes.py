"""Issuing and checking SMS codes (DESIGN.md "SMS codes"; ASVS 6.5.1-6.5.5, 6.6.2, 6.6.3).

A code is 6 digits from ``secrets``, stored only as an HMAC bound to its purpose and binding (the
login or enrollment that asked for it), valid 5 minutes (never over 10), usable once, with at most
5 tries. A resend supersedes the previous code and has 5 tries of its own; it does not reset the
member's consecutive-failure count (``factors.lockout``), which bounds guessing across codes.
The resend cooldown (30 s) holds per member and purpose across logins, and per number for an
enrollment; nothing is texted to a deactivated member or one whose second factor is locked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext, gettext_lazy, ngettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record_surviving_rollback
from twofold.errors import FlowError
from twofold.factors import lockout, notifications
from twofold.factors.sms.models import SmsCode
from twofold.organizations.language import in_language_of
from twofold.sms.delivery import send_sms
from twofold.sms.limits import Cooldown, cooldown_wait
from twofold.users.active import require_active
from twofold.users.models import User

MAX_TRIES_PER_CODE = 5
# One whole sentence per purpose, for translators. Their German and French keep to the GSM 7-bit
# alphabet (no ç, ê, â, î, ô, û), so a text stays one 160-character part (3GPP TS 23.038).
TEXTS = {
    "sign_in": gettext_lazy("Your Twofold sign-in code is %(code)s."),
    "enroll": gettext_lazy("Your Twofold confirmation code is %(code)s."),
    "change_number": gettext_lazy("Your Twofold confirmation code is %(code)s."),
    "reauthenticate": gettext_lazy("Your Twofold verification code is %(code)s."),
}
# Codes that confirm a number: their cooldown is per number, so fixing a typo needs no wait.
NUMBER_PURPOSES = frozenset({"enroll", "change_number"})


@dataclass(frozen=True)
class Sender:
    """Where a code request came from, for the SMS send limits and the delivery record."""

    ip: str | None = None


UNKNOWN_SENDER = Sender()


def _hmac(purpose: str, binding: str, code: str) -> str:
    key = hashlib.sha256(b"twofold.sms-code:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{purpose}:{binding}:{code}".encode(), hashlib.sha256).hexdigest()


def new_binding() -> str:
    return secrets.token_urlsafe(24)


def message(code: str, purpose: str) -> str:
    """Short, names the service and the expiry, ends with the WebOTP line (origin-bound), in the
    active language (:func:`issue_code` activates the recipient's)."""
    expiry = expiry_in_words(settings.TWOFOLD.sms_code_lifetime)
    host = urlsplit(settings.TWOFOLD.public_url).hostname
    sentence = TEXTS.get(purpose, TEXTS["reauthenticate"]) % {"code": code}
    expires = gettext("It expires in %(expiry)s.") % {"expiry": expiry}
    # The WebOTP line is never translated: browsers read it (WICG sms-one-time-codes).
    return f"{sentence} {expires}\n\n@{host} #{code}"


def expiry_in_words(seconds: int) -> str:
    """``1 minute``, ``5 minutes``, ``90 seconds``: rounded down, never more time than there is."""
    minutes, rest = divmod(seconds, 60)
    if rest and minutes < 2:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def issue_code(
    user: User,
    phone: str,
    *,
    purpose: str,
    binding: str,
    sender: Sender = UNKNOWN_SENDER,
    now: datetime | None = None,
) -> SmsCode:
    """Send a new code; the previous one of this binding stops working. Nothing is kept if the
    text cannot be sent (the caller sees why and can retry).

    The cooldown is reserved with the text (``sms/reservation.py``): of simultaneous requests,
    on any instance, one texts and the others get ``sms_resend_cooldown``.
    """
    now = now or clock.now()
    _check_may_send(user, now)
    code = f"{secrets.randbelow(10**6):06d}"  # CSPRNG, 6 digits (ASVS 6.5.3, 6.5.4)
    membership = getattr(user, "membership", None)
    with in_language_of(user):  # the recipient's language, whoever asked for the code
        body = message(code, purpose)
    send_sms(
        phone,
        body,
        purpose=purpose,
        user=user,
        organization=membership.organization if membership else None,
        ip=sender.ip,
        now=now,
        cooldown=_cooldown(purpose),  # checked and taken under the reservation's locks
    )
    with transaction.atomic():
        SmsCode.objects.filter(
            user=user, purpose=purpose, binding=binding, superseded=False
        ).update(superseded=True)
        # Fresh tries for a new code: the failure count across codes (lockout) is what survives.
        return SmsCode.objects.create(
            user=user,
            purpose=purpose,
            binding=binding,
            code_hmac=_hmac(purpose, binding, code),
            sent_at=now,
            expires_at=now + timedelta(seconds=settings.TWOFOLD.sms_code_lifetime),
        )


def _check_may_send(user: User, now: datetime) -> None:
    require_active(user)
    lockout.check_not_locked(user.pk, now)  # the code could not be used: do not text it


def _cooldown(purpose: str) -> Cooldown:
    return Cooldown(settings.TWOFOLD.sms_resend_cooldown, per_number=purpose in NUMBER_PURPOSES)


def _latest(user: User, purpose: str, binding: str) -> SmsCode | None:
    return (
        SmsCode.objects.filter(user=user, purpose=purpose, binding=binding)
        .order_by("-sent_at", "-pk")
        .first()
    )


def seconds_until_resend(
    user: User, purpose: str, now: datetime, *, phone: str | None = None
) -> int:
    """The wait before another code of ``purpose`` may be texted to ``user``.

    Counted from the last text of this purpose to the member in ANY login or enrollment, so
    starting afresh does not skip the cooldown; for an enrollment, from the last text to
    ``phone`` (a corrected number is texted at once).
    """
    return cooldown_wait(_cooldown(purpose), user=user, purpose=purpose, to=phone, now=now)


def has_open_code(user: User, purpose: str, binding: str, now: datetime) -> bool:
    """A code of this binding was texted and can still be tried (not used, expired or spent)."""
    latest = _latest(user, purpose, binding)
    return (
        latest is not None
        and not latest.superseded
        and latest.used_at is None
        and latest.expires_at > now
        and latest.attempts < MAX_TRIES_PER_CODE
    )


def verify_code(
    user: User, code: str, *, purpose: str, binding: str, now: datetime | None = None
) -> None:
    """Accept ``code`` once for this purpose and binding, or raise a FlowError saying why."""
    now = now or clock.now()
    had_failures = lockout.check_not_locked(user.pk, now)
    latest = _latest(user, purpose, binding)
    if latest is None or latest.superseded or latest.used_at is not None:
        raise FlowError(
            gettext("There is no code to enter for this step. Ask for a new one."),
            code="code_missing",
        )
    if latest.expires_at <= now:
        raise FlowError(gettext("This code has expired. Ask for a new one."), code="code_expired")
    # The try is spent BEFORE comparing, by one conditional UPDATE: requests arriving at the same
    # moment cannot share more than 5 tries between them.
    spent = SmsCode.objects.filter(pk=latest.pk, attempts__lt=MAX_TRIES_PER_CODE).update(
        attempts=F("attempts") + 1
    )
    if not spent:
        raise FlowError(
            gettext("Too many wrong tries for this code. Ask for a new one."), code="code_exhausted"
        )
    candidate = "".join(ch for ch in code if ch.isdigit())
    # Constant-time compare of HMACs: the stored value reveals nothing, timing neither.
    if not hmac.compare_digest(_hmac(purpose, binding, candidate), latest.code_hmac):
        record_surviving_rollback(
            Event.SECOND_FACTOR_FAILED, subject=user, factor="sms", detail={"purpose": purpose}
        )
        _count_failure(user, now)
        raise FlowError(
            gettext("That code is not right. Check the text message and try again."),
            code="code_invalid",
            param="code",
        )
    # The conditional update makes the code single use, even for two requests at once.
    if not SmsCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
        raise FlowError(gettext("This code was already used. Ask for a new one."), code="code_used")
    lockout.record_success(user.pk, had_failures=had_failures)


def _count_failure(user: User, now: datetime) -> None:
    if lockout.record_failure(user.pk, now):
        notifications.send_second_factor_locked(user)
