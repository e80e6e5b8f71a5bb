"""The one small interface over all second factors: is one enabled, which, and which first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from allauth.mfa.models import Authenticator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from twofold.factors.backup_codes.flows import FEW_LEFT, remaining
from twofold.factors.preference import PreferredFactor
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership
from twofold.sms.numbers import mask
from twofold.users.models import User

Memberships = TypeVar("Memberships", bound=QuerySet[Membership])

WEBAUTHN = "webauthn"
TOTP = "totp"
SMS = "sms"
# Strongest first: a security key resists phishing (NIST SP 800-63B-4 3.2.5); SMS is a
# "restricted" authenticator (3.1.3.3).
METHODS = (WEBAUTHN, TOTP, SMS)
LABELS = {
    WEBAUTHN: "Security key or passkey",
    TOTP: "Authenticator app",
    SMS: "Text message (SMS)",
}
_APP_TYPES = (Authenticator.Type.WEBAUTHN, Authenticator.Type.TOTP)
_WITH_FACTOR = Q(sms_factor__isnull=False) | Q(authenticator__type__in=_APP_TYPES)


def methods(user: User) -> list[str]:
    """The member's second factors, strongest first."""
    found: list[str] = []
    types = set(
        Authenticator.objects.filter(user=user, type__in=_APP_TYPES).values_list("type", flat=True)
    )
    found.extend(m for m in (WEBAUTHN, TOTP) if m in types)
    if SmsFactor.objects.filter(user=user).exists():
        found.append(SMS)
    return found


def preferred(user: User, available: list[str] | None = None) -> str | None:
    """The factor asked for first at sign-in: the member's choice, else the strongest."""
    available = methods(user) if available is None else available
    chosen = PreferredFactor.objects.filter(user=user).values_list("method", flat=True).first()
    return _preferred(chosen, available)


def _preferred(chosen: str | None, available: list[str]) -> str | None:
    if chosen in available:
        return chosen
    return available[0] if available else None


def has_second_factor(user: User) -> bool:
    return User.objects.filter(pk=user.pk).filter(_WITH_FACTOR).exists()


def users_with_second_factor() -> QuerySet[Any]:
    """The ids of every user with a second factor, to filter members in one query."""
    return User.objects.filter(_WITH_FACTOR).values("pk")


@dataclass(frozen=True)
class FactorSummary:
    """A member's second factors as an administrator sees them: never the full number."""

    method: str | None  # the preferred factor; None when two-factor authentication is off
    masked_phone: str | None
    backup_codes_left: int
    methods: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.method is not None

    @property
    def few_backup_codes_left(self) -> bool:
        return self.enabled and self.backup_codes_left <= FEW_LEFT


def with_summaries(memberships: Memberships) -> Memberships:
    """The data of :func:`summary` fetched with the members themselves: no query per member."""
    unused = Q(user__backup_codes__active=True, user__backup_codes__used_at__isnull=True)
    totp = Authenticator.objects.filter(user=OuterRef("user"), type=Authenticator.Type.TOTP)
    keys = Authenticator.objects.filter(user=OuterRef("user"), type=Authenticator.Type.WEBAUTHN)
    return memberships.select_related("user__sms_factor", "user__preferred_factor").annotate(
        backup_codes_left=Count("user__backup_codes", filter=unused),
        has_totp=Exists(totp),
        has_webauthn=Exists(keys),
    )


def summary(membership: Membership) -> FactorSummary:
    """From :func:`with_summaries`' data when fetched so; otherwise read now (a few queries)."""
    user = membership.user
    factor = _sms_factor(user)
    has_totp = getattr(membership, "has_totp", None)
    if has_totp is None:
        has_totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    has_webauthn = getattr(membership, "has_webauthn", None)
    if has_webauthn is None:
        has_webauthn = Authenticator.objects.filter(
            user=user, type=Authenticator.Type.WEBAUTHN
        ).exists()
    found = ((WEBAUTHN, has_webauthn), (TOTP, has_totp), (SMS, factor is not None))
    available = [m for m, on in found if on]
    left = getattr(membership, "backup_codes_left", None)
    return FactorSummary(
        method=_preferred(_chosen(user), available),
        masked_phone=mask(factor.phone) if factor else None,
        backup_codes_left=remaining(user) if left is None else left,
        methods=tuple(available),
    )


def _sms_factor(user: User) -> SmsFactor | None:
    try:
        return user.sms_factor  # cached by select_related, else one query
    except SmsFactor.DoesNotExist:
        return None


def _chosen(user: User) -> str | None:
    # Cached by select_related, else one query; none set: RelatedObjectDoesNotExist, an
    # AttributeError.
    chosen: PreferredFactor | None = getattr(user, "preferred_factor", None)
    return chosen.method if chosen else None
