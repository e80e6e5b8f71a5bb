"""Consecutive second-factor failures per member, and the growing lock they lead to.

DESIGN.md: at most 20 (configurable, never above 100) consecutive failures, then second-factor
sign-in is locked for a delay that doubles with each further failure, and the member is emailed.
A new code does not reset the count; only a correct code or backup code does (ASVS 6.6.3).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext, ngettext

from twofold import metrics
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import TooManyRequests

FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=24)


class SecondFactorFailures(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_factor_failures"
    )
    consecutive = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"{self.consecutive} failures of user {self.user_id}"


def limit() -> int:
    return int(settings.TWOFOLD.second_factor_failure_limit)


def check_not_locked(user_id: int, now: datetime) -> bool:
    """Raise TooManyRequests while locked; else return whether failures are on record, i.e.
    whether a correct code has anything for :func:`record_success` to clear."""
    consecutive, locked_until = (
        SecondFactorFailures.objects.filter(user_id=user_id)
        .values_list("consecutive", "locked_until")
        .first()
    ) or (0, None)
    if locked_until is not None and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        raise TooManyRequests(
            gettext(
                "Too many wrong codes. For your safety, two-factor sign-in is paused. "
                "Try again in %(wait)s."
            )
            % {"wait": _in_words(wait)},
            retry_after=wait,
            code="second_factor_locked",
        )
    return consecutive > 0 or locked_until is not None


def record_failure(user_id: int, now: datetime) -> bool:
    """Count one failure; return True when this failure started a new lock (email the member)."""
    with transaction.atomic():
        failures, _ = SecondFactorFailures.objects.select_for_update().get_or_create(
            user_id=user_id
        )
        # F() keeps the count exact when two wrong codes arrive at once.
        SecondFactorFailures.objects.filter(pk=failures.pk).update(consecutive=F("consecutive") + 1)
        failures.refresh_from_db()
        over = failures.consecutive - limit()
        if over < 0:
            return False
        delay = min(FIRST_LOCK * (2**over), LONGEST_LOCK)
        failures.locked_until = now + delay
        failures.save(update_fields=["locked_until"])
        detail = {
            "failures": failures.consecutive,
            "locked_for_seconds": int(delay.total_seconds()),
        }
        record(Event.SECOND_FACTOR_LOCKED, subject=failures.user, detail=detail)
        metrics.second_factor_locked()
        return over == 0


def record_success(user_id: int, *, had_failures: bool) -> None:
    """A right code; ``had_failures`` is what :func:`check_not_locked` said before it. With no
    failures on record there is nothing to reset, so no write (issue 7). A wrong code counted by
    a concurrent request after that read is kept, never erased: the count ends as if that failure
    came after this success, so the lock is never weaker than with a reset."""
    if had_failures:
        clear(user_id)


def clear(user_id: int) -> None:
    """Forget the member's consecutive failures and any lock."""
    SecondFactorFailures.objects.filter(user_id=user_id).update(consecutive=0, locked_until=None)


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    if seconds < 5400:
        minutes = round(seconds / 60)
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours = round(seconds / 3600)
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
