"""Issuing and checking SMS codes (DESIGN.md "SMS codes"; ASVS 6.5.1-6.5.5, 6.6.2, 6.6.3).

A code is 6 digits from ``secrets``, stored only as an HMAC bound to its purpose and binding (the
login or enrollment that asked for it), valid 5 minutes (never over 10), usable once, with at most
5 tries. A resend supersedes the previous code but carries its tries over, and does not reset the
member's consecutive-failure count (``factors.lockout``).
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

from twofold import clock
from twofold.errors import FlowError, TooManyRequests
from twofold.factors import lockout, notifications
from twofold.factors.sms.models import SmsCode
from twofold.sms.delivery import send_sms
from twofold.users.models import User

MAX_TRIES_PER_CODE = 5
PURPOSE_WORDS = {
    "sign_in": "sign-in",
    "enroll": "confirmation",
    "change_number": "confirmation",
    "reauthenticate": "verification",
}


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
    """Short, names the service and the expiry, ends with the WebOTP line (origin-bound)."""
    minutes = settings.TWOFOLD.sms_code_lifetime // 60
    host = urlsplit(settings.TWOFOLD.public_url).hostname
    return (
        f"Your Twofold {PURPOSE_WORDS.get(purpose, 'verification')} code is {code}. "
        f"It expires in {minutes} minutes.\n\n@{host} #{code}"
    )


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
    text cannot be sent (the caller sees why and can retry)."""
    now = now or clock.now()
    previous = _latest(user, purpose, binding)
    cooldown = settings.TWOFOLD.sms_resend_cooldown
    if previous is not None and (now - previous.sent_at).total_seconds() < cooldown:
        wait = cooldown - int((now - previous.sent_at).total_seconds())
        raise TooManyRequests(
            f"A code was just sent. You can ask for a new one in {wait} seconds.",
            retry_after=wait,
            code="sms_resend_cooldown",
        )
    code = f"{secrets.randbelow(10**6):06d}"  # CSPRNG, 6 digits (ASVS 6.5.3, 6.5.4)
    membership = getattr(user, "membership", None)
    send_sms(
        phone,
        message(code, purpose),
        purpose=purpose,
        user=user,
        organization=membership.organization if membership else None,
        ip=sender.ip,
        now=now,
    )
    with transaction.atomic():
        tries_so_far = 0
        if previous is not None:
            SmsCode.objects.filter(pk=previous.pk).update(superseded=True)
            tries_so_far = previous.attempts  # a resend does not buy fresh tries
        return SmsCode.objects.create(
            user=user,
            purpose=purpose,
            binding=binding,
            code_hmac=_hmac(purpose, binding, code),
            sent_at=now,
            expires_at=now + timedelta(seconds=settings.TWOFOLD.sms_code_lifetime),
            attempts=tries_so_far,
        )


def _latest(user: User, purpose: str, binding: str) -> SmsCode | None:
    return (
        SmsCode.objects.filter(user=user, purpose=purpose, binding=binding)
        .order_by("-sent_at", "-pk")
        .first()
    )


def seconds_until_resend(user: User, purpose: str, binding: str, now: datetime) -> int:
    latest = _latest(user, purpose, binding)
    if latest is None:
        return 0
    waited = (now - latest.sent_at).total_seconds()
    return max(0, settings.TWOFOLD.sms_resend_cooldown - int(waited))


def verify_code(
    user: User, code: str, *, purpose: str, binding: str, now: datetime | None = None
) -> None:
    """Accept ``code`` once for this purpose and binding, or raise a FlowError saying why."""
    now = now or clock.now()
    lockout.check_not_locked(user.pk, now)
    latest = _latest(user, purpose, binding)
    if latest is None or latest.superseded or latest.used_at is not None:
        raise FlowError("Ask for a new code: there is no open code.", code="code_missing")
    if latest.expires_at <= now:
        raise FlowError("This code has expired. Ask for a new one.", code="code_expired")
    if latest.attempts >= MAX_TRIES_PER_CODE:
        raise FlowError(
            "Too many wrong tries for this code. Ask for a new one.", code="code_exhausted"
        )
    candidate = "".join(ch for ch in code if ch.isdigit())
    # Constant-time compare of HMACs: the stored value reveals nothing, timing neither.
    if not hmac.compare_digest(_hmac(purpose, binding, candidate), latest.code_hmac):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        _count_failure(user, now)
        raise FlowError(
            "That code is not right. Check the text message and try again.",
            code="code_invalid",
            param="code",
        )
    # The conditional update makes the code single use, even for two requests at once.
    if not SmsCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
        raise FlowError("This code was already used. Ask for a new one.", code="code_used")
    lockout.record_success(user.pk)


def _count_failure(user: User, now: datetime) -> None:
    if lockout.record_failure(user.pk, now):
        notifications.send_second_factor_locked(user)
