"""Daily send limits per number, member, IP address and account (DESIGN.md "Sending limits").

Texts cost money and are abused to pump premium-rate or far-away numbers (SMS pumping, toll
fraud); the per-code and resend limits of the factor do not bound that. Counted here: texts a
gateway accepted (``status="sent"``) in the 24 hours before ``now``; failed attempts cost nothing
and do not count. Two requests at the same instant can both pass the check: the limits may be
exceeded by the number of concurrent sends, which the factor's resend cooldown keeps small.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from twofold.errors import TooManyRequests
from twofold.sms.models import DeliveryStatus, SmsDelivery, number_hash

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Limit:
    setting: str
    message: str


PER_NUMBER = Limit("limit_per_number", "Too many text messages to this number today.")
PER_USER = Limit("limit_per_user", "You have asked for too many text messages today.")
PER_IP = Limit("limit_per_ip", "Too many text messages were asked for from your network today.")
PER_ORGANIZATION = Limit(
    "limit_per_organization", "Your account has sent too many text messages today."
)


def check_send_allowed(
    *, to: str, user: Any, organization: Any, ip: str | None, now: datetime
) -> None:
    """Raise :class:`TooManyRequests` (``sms_limit``) if one more text to ``to`` exceeds a limit.

    ``retry_after`` is when enough counted texts have left the 24 h window for one more.
    """
    scopes: list[tuple[Limit, Q]] = [(PER_NUMBER, Q(to_hash=number_hash(to)))]
    if user is not None:
        scopes.append((PER_USER, Q(user=user)))
    if ip:
        scopes.append((PER_IP, Q(ip=ip)))
    if organization is not None:
        scopes.append((PER_ORGANIZATION, Q(organization=organization)))
    # One query counts all four (was one COUNT each: issue 7); each scope keeps its index.
    counts = (
        _counted(now)
        .filter(reduce(operator.or_, (scope for _, scope in scopes)))
        .aggregate(**{limit.setting: Count("pk", filter=scope) for limit, scope in scopes})
    )
    for limit, scope in scopes:
        _check(limit, scope, counts[limit.setting], now)


def _counted(now: datetime) -> QuerySet[SmsDelivery]:
    return SmsDelivery.objects.filter(
        status=DeliveryStatus.SENT, created_at__gt=now - WINDOW, created_at__lte=now
    )


def _check(limit: Limit, scope: Q, used: int, now: datetime) -> None:
    allowed = int(getattr(settings.TWOFOLD.sms, limit.setting))
    if used < allowed:
        return
    # One more is allowed once all but (allowed - 1) of the counted texts have left the window.
    counted = _counted(now).filter(scope).order_by("created_at")
    frees_a_slot = counted.values_list("created_at", flat=True)[used - allowed]
    retry_after = math.ceil((frees_a_slot + WINDOW - now).total_seconds())
    raise TooManyRequests(
        f"{limit.message} Try again {in_words(retry_after)}.",
        retry_after=retry_after,
        code="sms_limit",
    )


def in_words(seconds: int) -> str:
    """``in a minute``, ``in 25 minutes``, ``in an hour``, ``in 3 hours`` (rounded up)."""
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "in a minute"
    if minutes < 60:
        return f"in {minutes} minutes"
    hours = math.ceil(seconds / 3600)
    return "in an hour" if hours == 1 else f"in {hours} hours"
