"""The one small interface over all second factors: is one enabled, and which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Count, Q, QuerySet

from twofold.factors.backup_codes.flows import FEW_LEFT, remaining
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership
from twofold.sms.numbers import mask
from twofold.users.models import User

Memberships = TypeVar("Memberships", bound=QuerySet[Membership])


def has_second_factor(user: User) -> bool:
    return SmsFactor.objects.filter(user=user).exists()


def users_with_second_factor() -> QuerySet[Any]:
    """The ids of every user with a second factor, to filter members in one query."""
    return SmsFactor.objects.values("user")


@dataclass(frozen=True)
class FactorSummary:
    """A member's second factors as an administrator sees them: never the full number."""

    method: str | None  # "sms"; None when two-factor authentication is off
    masked_phone: str | None
    backup_codes_left: int

    @property
    def enabled(self) -> bool:
        return self.method is not None

    @property
    def few_backup_codes_left(self) -> bool:
        return self.enabled and self.backup_codes_left <= FEW_LEFT


def with_summaries(memberships: Memberships) -> Memberships:
    """The data of :func:`summary` fetched with the members themselves: no query per member."""
    unused = Q(user__backup_codes__active=True, user__backup_codes__used_at__isnull=True)
    return memberships.select_related("user__sms_factor").annotate(
        backup_codes_left=Count("user__backup_codes", filter=unused)
    )


def summary(membership: Membership) -> FactorSummary:
    """From :func:`with_summaries`' data when fetched so; otherwise read now (a few queries)."""
    factor = _sms_factor(membership.user)
    left = getattr(membership, "backup_codes_left", None)
    return FactorSummary(
        method="sms" if factor else None,
        masked_phone=mask(factor.phone) if factor else None,
        backup_codes_left=remaining(membership.user) if left is None else left,
    )


def _sms_factor(user: User) -> SmsFactor | None:
    try:
        return user.sms_factor  # cached by select_related, else one query
    except SmsFactor.DoesNotExist:
        return None
