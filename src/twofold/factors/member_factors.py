"""The one small interface over all second factors: is one enabled, which, and which first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from allauth.mfa.models import Authenticator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from twofold.factors.backup_codes.flows import FEW_LEFT, remaining
from twofold.factors.methods import SMS, TOTP, WEBAUTHN
from twofold.factors.models import PreferredFactor
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership, keep_membership, membership_loaded
from twofold.sms.numbers import mask
from twofold.users.models import User

Memberships = TypeVar("Memberships", bound=QuerySet[Membership])

_APP_TYPES = (Authenticator.Type.WEBAUTHN, Authenticator.Type.TOTP)
_WITH_FACTOR = Q(sms_factor__isnull=False) | Q(authenticator__type__in=_APP_TYPES)


@dataclass(frozen=True)
class Factors:
    """What sign-in asks about a member's second factors, read at once (:func:`read_once`)."""

    methods: tuple[str, ...]  # strongest first
    chosen: str | None  # the preferred factor as stored: perhaps one since removed
    phone: str | None  # the SMS factor's number


def read_factors(user: User) -> Factors:
    """The member's factors in one query, with their membership and account unless loaded."""
    rows = User.objects.filter(pk=user.pk).annotate(
        sms_phone=F("sms_factor__phone"),
        chosen_method=F("preferred_factor__method"),
        app_type=F("authenticator__type"),  # a row per authenticator: cheaper than EXISTS
    )
    loaded = membership_loaded(user)
    found = list(rows if loaded else rows.select_related("membership__organization"))
    if not found:
        return Factors(methods=(), chosen=None, phone=None)  # deleted meanwhile
    if not loaded:
        keep_membership(user, found[0])
    apps = {row.app_type for row in found}
    first = found[0]
    on = (
        (WEBAUTHN, Authenticator.Type.WEBAUTHN in apps),
        (TOTP, Authenticator.Type.TOTP in apps),
        (SMS, first.sms_phone is not None),
    )
    return Factors(
        methods=tuple(method for method, enabled in on if enabled),
        chosen=first.chosen_method,
        phone=first.sms_phone,
    )


_READ_ONCE = "_twofold_factors_read_once"


@contextmanager
def read_once(user: User) -> Iterator[None]:
    """Inside the block, this module answers about ``user`` from one read, made at the first
    question. Only around a read-only step of one request (sign-in's second-factor step): a
    factor added or removed inside the block is not seen; each block reads afresh, so a factor
    removed meanwhile is never accepted at the next request."""
    if _READ_ONCE in vars(user):
        yield  # nested: the outer block's read stands
        return
    vars(user)[_READ_ONCE] = []
    try:
        yield
    finally:
        del vars(user)[_READ_ONCE]


def _read_once(user: User) -> Factors | None:
    """The block's read (made now if it is the first question); None outside a block."""
    block: list[Factors] | None = vars(user).get(_READ_ONCE)
    if block is None:
        return None
    if not block:
        block.append(read_factors(user))
    return block[0]


def methods(user: User) -> list[str]:
    """The member's second factors, strongest first."""
    known = _read_once(user)
    if known is not None:
        return list(known.methods)
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
    known = _read_once(user)
    if known is not None:
        return _preferred(known.chosen, available)
    chosen = PreferredFactor.objects.filter(user=user).values_list("method", flat=True).first()
    return _preferred(chosen, available)


def _preferred(chosen: str | None, available: list[str]) -> str | None:
    if chosen in available:
        return chosen
    return available[0] if available else None


def has_second_factor(user: User) -> bool:
    known = _read_once(user)
    if known is not None:
        return bool(known.methods)
    return User.objects.filter(pk=user.pk).filter(_WITH_FACTOR).exists()


def sms_phone(user: User) -> str | None:
    """The number of the member's SMS factor; None without one."""
    known = _read_once(user)
    if known is not None:
        return known.phone
    return SmsFactor.objects.filter(user=user).values_list("phone", flat=True).first()


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
