"""Daily send limits per number, member, IP address and account (DESIGN.md "Sending limits"), and
the resend cooldown of a purpose.

Texts cost money and are abused to pump premium-rate or far-away numbers (SMS pumping, toll
fraud); the per-code and resend limits of the factor do not bound that. Counted here: texts a
gateway accepted (``sent``) and texts being sent now (``reserved``) in the 24 hours before
``now``; failed attempts cost nothing and do not count. These checks only read: they hold under
simultaneous sends because :mod:`twofold.sms.reservation` runs them under its locks, together
with writing the text's reservation.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import Aggregate, Count, Max, Q, QuerySet
from django.utils.translation import gettext

from twofold import metrics
from twofold.errors import TooManyRequests
from twofold.sms.models import COUNTED, SmsDelivery, number_hash

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
    *,
    to: str,
    user: Any,
    organization: Any,
    ip: str | None,
    now: datetime,
    purpose: str = "",
    cooldown: Cooldown | None = None,
) -> None:
    """Raise :class:`TooManyRequests` if one more text to ``to`` may not go now:
    ``sms_resend_cooldown`` while ``cooldown`` runs for ``user`` and ``purpose``, else
    ``sms_limit`` past a daily limit.

    ``retry_after`` is when the cooldown ends, or when enough counted texts have left the 24 h
    window for one more. One query reads the four counts and the last text of the cooldown.
    """
    scopes: list[tuple[Limit, Q]] = [(PER_NUMBER, Q(to_hash=number_hash(to)))]
    if user is not None:
        scopes.append((PER_USER, Q(user=user)))
    if ip:
        scopes.append((PER_IP, Q(ip=ip)))
    if organization is not None:
        scopes.append((PER_ORGANIZATION, Q(organization=organization)))
    wanted: dict[str, Aggregate] = {
        limit.setting: Count("pk", filter=scope) for limit, scope in scopes
    }
    if cooldown is not None:
        if user is None:
            raise ValueError("a cooldown is per member: check_send_allowed() needs the user")
        # The member's texts are among those counted per member: the same rows, the same query.
        wanted["last_text"] = Max("created_at", filter=_cooldown_scope(cooldown, user, purpose, to))
    # One query counts all four (was one COUNT each: issue 7); each scope keeps its index.
    found = (
        _counted(now)
        .filter(reduce(operator.or_, (scope for _, scope in scopes)))
        .aggregate(**wanted)
    )
    if cooldown is not None:
        _check_cooldown(cooldown, found["last_text"], now)
    for limit, scope in scopes:
        _check(limit, scope, found[limit.setting], now)


def _counted(now: datetime) -> QuerySet[SmsDelivery]:
    # No upper bound: a simultaneous send that read the clock a moment after ``now`` (or on an
    # instance whose clock is ahead) stamped its reservation later, and must count all the same.
    return SmsDelivery.objects.filter(status__in=COUNTED, created_at__gt=now - WINDOW)


def _check(limit: Limit, scope: Q, used: int, now: datetime) -> None:
    allowed = int(getattr(settings.TWOFOLD.sms, limit.setting))
    if used < allowed:
        return
    # One more is allowed once all but (allowed - 1) of the counted texts have left the window.
    counted = _counted(now).filter(scope).order_by("created_at")
    frees_a_slot = counted.values_list("created_at", flat=True)[used - allowed]
    retry_after = math.ceil((frees_a_slot + WINDOW - now).total_seconds())
    metrics.rate_limited(f"sms_{limit.setting.removeprefix('limit_')}")
    raise TooManyRequests(
        gettext("%(message)s Try again %(in_words)s.")
        % {"message": limit.message, "in_words": in_words(retry_after)},
        retry_after=retry_after,
        code="sms_limit",
    )


@dataclass(frozen=True)
class Cooldown:
    """No second text of one purpose to one member within ``seconds`` of the last, in any login;
    with ``per_number``, counted per number (a corrected number is texted at once)."""

    seconds: int
    per_number: bool = False


def cooldown_wait(
    cooldown: Cooldown, *, user: Any, purpose: str, to: str | None, now: datetime
) -> int:
    """Seconds until ``cooldown`` lets one more text of ``purpose`` go to ``user`` (0: now);
    without ``to``, counted from the member's last text of ``purpose`` to any number."""
    texts = _counted(now).filter(_cooldown_scope(cooldown, user, purpose, to))
    last = texts.order_by("-created_at").values_list("created_at", flat=True).first()
    return _wait(cooldown, last, now)


def _cooldown_scope(cooldown: Cooldown, user: Any, purpose: str, to: str | None) -> Q:
    scope = Q(user=user, purpose=purpose)
    if cooldown.per_number and to is not None:
        scope &= Q(to_hash=number_hash(to))
    return scope


def _wait(cooldown: Cooldown, last: datetime | None, now: datetime) -> int:
    if last is None:
        return 0
    return max(0, cooldown.seconds - int((now - last).total_seconds()))


def _check_cooldown(cooldown: Cooldown, last: datetime | None, now: datetime) -> None:
    wait = _wait(cooldown, last, now)
    if wait:
        metrics.rate_limited("sms_resend_cooldown")
        raise TooManyRequests(
            gettext("A code was just sent. You can ask for a new one in %(wait)s seconds.")
            % {"wait": wait},
            retry_after=wait,
            code="sms_resend_cooldown",
        )


def in_words(seconds: int) -> str:
    """``in a minute``, ``in 25 minutes``, ``in an hour``, ``in 3 hours`` (rounded up)."""
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return gettext("in a minute")
    if minutes < 60:
        return gettext("in %(minutes)s minutes") % {"minutes": minutes}
    hours = math.ceil(seconds / 3600)
    if hours == 1:
        return gettext("in an hour")
    return gettext("in %(hours)s hours") % {"hours": hours}
