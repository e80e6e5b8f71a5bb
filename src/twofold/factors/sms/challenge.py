"""A code texted to the member's number, as a second-factor challenge (``factors/challenges.py``).

The code is bound to the attempt's login or session and purpose (ASVS 6.6.2); the cooldown and
send limits apply to every text (``codes.issue_code``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from twofold import clock
from twofold.errors import Conflict
from twofold.factors import member_factors
from twofold.factors.attempts import Attempt, Verified, code_of
from twofold.factors.sms import codes
from twofold.factors.sms.models import SmsFactor


class SmsChallenge:
    delivered = True

    def begin(self, attempt: Attempt, *, again: bool = False) -> dict[str, Any] | None:
        if not again and self.waiting(attempt):
            return None  # the code already texted for this attempt still works
        codes.issue_code(
            attempt.user,
            _phone(attempt),
            purpose=attempt.purpose,
            binding=attempt.binding,
            sender=codes.Sender(ip=attempt.ip),
        )
        return None

    def waiting(self, attempt: Attempt) -> bool:
        return codes.has_open_code(attempt.user, attempt.purpose, attempt.binding, clock.now())

    def seconds_until_again(self, attempt: Attempt) -> int:
        return codes.seconds_until_resend(attempt.user, attempt.purpose, clock.now())

    def verify(self, attempt: Attempt, answer: Any) -> Verified:
        now = clock.now()
        _phone(attempt)
        codes.verify_code(
            attempt.user, code_of(answer), purpose=attempt.purpose, binding=attempt.binding, now=now
        )
        SmsFactor.objects.filter(user=attempt.user).update(last_used_at=now)
        return Verified(record={"type": "sms"})


def _phone(attempt: Attempt) -> str:
    """The number of the member's SMS factor (``two_factor_off`` without one)."""
    phone = member_factors.sms_phone(attempt.user)
    if phone is None:
        raise Conflict(
            gettext("Two-factor authentication is off for this account."), code="two_factor_off"
        )
    return phone
