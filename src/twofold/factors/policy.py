"""The account's two-factor policy, in one place: mandatory 2FA and its grace period, the methods
members may use, remembered browsers; what they mean for a member, and the administrators' flows
that change them.

DESIGN.md: "Mandatory 2FA" means "this organization requires aal2". Once an administrator ticks
the box, every member needs a second factor: members without one set it up at their next sign-in
(the login stage in ``signin/forced_enrollment.py``), and nobody can turn theirs off
(:func:`two_factor_required`). With a grace period, members may postpone for that many days,
counted from the moment the box was ticked (``two_factor_required_since``): saving the page
again does not restart it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, FlowError, NotAllowed
from twofold.factors import member_factors
from twofold.factors.member_factors import has_second_factor, users_with_second_factor
from twofold.factors.methods import LABELS, METHODS, SMS, TOTP
from twofold.organizations.models import (
    MAX_GRACE_DAYS,
    Membership,
    MembershipQuerySet,
    Organization,
    membership_of,
    require_administrator,
)
from twofold.sessions.member_sessions import end_all_sessions
from twofold.users.models import User

DAY = timedelta(days=1)
GRACE_DAYS_MESSAGE = f"Enter a grace period between 0 and {MAX_GRACE_DAYS} days."


@dataclass(frozen=True)
class TwoFactorRule:
    """What an account requires of its members."""

    required: bool = False
    grace_days: int = 0
    required_since: datetime | None = None

    @property
    def grace_ends_at(self) -> datetime | None:
        """Until when members without 2FA may postpone it; None when they may not at all."""
        if not self.required or self.required_since is None or not self.grace_days:
            return None
        return self.required_since + self.grace_days * DAY

    def days_left(self, now: datetime) -> int:
        """Whole days, rounded up, a member without 2FA may still postpone; 0: set it up now."""
        ends = self.grace_ends_at
        if ends is None or ends <= now:
            return 0
        return math.ceil((ends - now) / DAY)


NOT_REQUIRED = TwoFactorRule()


def rule_of(organization: Organization) -> TwoFactorRule:
    return TwoFactorRule(
        required=organization.require_two_factor,
        grace_days=organization.two_factor_grace_days,
        required_since=organization.two_factor_required_since,
    )


def rule_for(user: User) -> TwoFactorRule:
    """The rule of the user's account (a user without one is required nothing)."""
    membership = membership_of(user)
    return rule_of(membership.organization) if membership is not None else NOT_REQUIRED


def members_without_two_factor(organization: Organization) -> MembershipQuerySet:
    return (
        Membership.objects.of(organization)
        .filter(user__is_active=True)
        .exclude(user__in=users_with_second_factor())
    )


# --- Administrators' flows ----------------------------------------------------------------------


def change_policy(
    actor: Membership, *, require_two_factor: bool, grace_days: int, now: datetime | None = None
) -> Organization:
    """Tick or untick "Mandatory Two-Factor-Authentication" and set the grace period."""
    require_administrator(actor)
    now = now or clock.now()
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise FlowError(
            GRACE_DAYS_MESSAGE, code="grace_days_invalid", param="two_factor_grace_days"
        )
    with transaction.atomic():
        # Locked: of two administrators saving at once, each sees the other's result as "before".
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        before = rule_of(organization)
        if require_two_factor and not before.required:
            _require_own_second_factor(actor)
        if require_two_factor:
            _require_enrollable(allowed_methods_of(organization), param="require_two_factor")
        organization.require_two_factor = require_two_factor
        organization.two_factor_grace_days = grace_days
        organization.two_factor_required_since = (
            (before.required_since or now) if require_two_factor else None
        )
        organization.save(
            update_fields=[
                "require_two_factor",
                "two_factor_grace_days",
                "two_factor_required_since",
            ]
        )
    changes = _changes(before, rule_of(organization))
    if changes:
        record(Event.POLICY_CHANGED, actor=actor.user, organization=organization, detail=changes)
    actor.organization = organization
    return organization


def _require_own_second_factor(actor: Membership) -> None:
    # Otherwise the administrator would lock themselves into enrollment at their next sign-in,
    # having never tried what they impose on everyone.
    if not has_second_factor(actor.user):
        raise Conflict(
            gettext(
                "Turn on two-factor authentication for yourself first; "
                "then you can require it for everyone in the account."
            ),
            code="two_factor_required_first",
            param="require_two_factor",
        )


def _changes(before: TwoFactorRule, after: TwoFactorRule) -> dict[str, Any]:
    pairs = {
        "require_two_factor": (before.required, after.required),
        "two_factor_grace_days": (before.grace_days, after.grace_days),
    }
    return {key: {"from": old, "to": new} for key, (old, new) in pairs.items() if old != new}


@dataclass(frozen=True)
class SignedOut:
    members: int  # members of whom at least one session ended
    sessions: int


def sign_out_members_without_two_factor(actor: Membership) -> SignedOut:
    """End, on every worker, each session of every active member without 2FA, so the rule
    applies at once: their next sign-in meets the enrollment stage. The acting administrator's
    own sessions stay."""
    require_administrator(actor)
    organization = Organization.objects.get(pk=actor.organization_id)
    if not rule_of(organization).required:
        raise Conflict(
            gettext("The account does not require two-factor authentication: tick the box first."),
            code="two_factor_not_required",
        )
    targets = members_without_two_factor(organization).exclude(pk=actor.pk).select_related("user")
    ended = [end_all_sessions(target.user) for target in targets]
    result = SignedOut(members=sum(1 for count in ended if count), sessions=sum(ended))
    detail = {"members": result.members, "sessions": result.sessions}
    record(Event.MEMBERS_SIGNED_OUT, actor=actor.user, organization=organization, detail=detail)
    return result


# --- Method policy: which second factors members may use ----------------------------------------

METHODS_MESSAGE = gettext_lazy("Allow at least one two-factor method.")

# The methods a member can set up at sign-in (``signin/forced_enrollment.py``),
# strongest first. Security keys are set up only from the settings page, once signed in.
ENROLLABLE = (TOTP, SMS)
NO_ENROLLABLE_MESSAGE = gettext_lazy(
    "While two-factor authentication is mandatory, allow an authenticator app or SMS too: "
    "members without a second factor set one of them up at sign-in (security keys are added "
    "from the settings page, once signed in)."
)


def _require_enrollable(methods: Sequence[str], *, param: str) -> None:
    """A mandatory 2FA must leave members without a factor something to set up at sign-in."""
    if not any(method in ENROLLABLE for method in methods):
        raise FlowError(NO_ENROLLABLE_MESSAGE, code="no_enrollable_method", param=param)


def allowed_methods_of(organization: Organization) -> tuple[str, ...]:
    """The second factors the account's members may use, strongest first (default: all)."""
    chosen = organization.allowed_two_factor_methods or METHODS
    return tuple(method for method in METHODS if method in chosen)


def allowed_methods_for(user: User) -> tuple[str, ...]:
    """The methods of the user's account (a user without one may use every method)."""
    membership = membership_of(user)
    return allowed_methods_of(membership.organization) if membership else METHODS


def remembered_devices_allowed(user: User) -> bool:
    """The user's account lets members skip the second step on a remembered browser."""
    membership = membership_of(user)
    return membership.organization.allow_remembered_devices if membership else True


def two_factor_required(user: User) -> bool:
    """True when the member's account requires two-factor authentication (aal2)."""
    return rule_for(user).required


def method_allowed(user: User, method: str) -> bool:
    """The member's account lets its members use ``method`` (its method policy)."""
    return method in allowed_methods_for(user)


def require_allowed(user: User, method: str) -> None:
    """Refuse to set up a method the account does not allow: 403 ``two_factor_method_not_allowed``
    (``method_not_allowed`` is the API's 405, an HTTP method an endpoint does not take)."""
    if not method_allowed(user, method):
        label = LABELS.get(method, method)
        raise NotAllowed(
            gettext(
                "Your account does not allow %(label)s for two-factor authentication. "
                "Choose another method."
            )
            % {"label": label},
            code="two_factor_method_not_allowed",
            param="method",
        )


def usable_methods(user: User) -> list[str]:
    """The member's factors accepted at sign-in, strongest first: those the account allows;
    all of them when none is (the member signs in with one, then must add an allowed one)."""
    available = member_factors.methods(user)
    allowed = allowed_methods_for(user)
    return [method for method in available if method in allowed] or available


def needs_allowed_factor(user: User) -> bool:
    """The member has second factors, but none the account allows any more."""
    allowed = allowed_methods_for(user)
    if all(method in allowed for method in METHODS):
        return False  # every method is allowed: nothing more to read
    available = member_factors.methods(user)
    return bool(available) and not any(method in allowed for method in available)


def change_method_policy(
    actor: Membership,
    *,
    methods: Sequence[str] | None = None,
    allow_remembered_devices: bool | None = None,
) -> Organization:
    """Choose which second factors members may use (at least one of ``factors/methods.py``),
    and whether they may skip the second step on a remembered browser; ``None`` leaves it as is.

    Members keep the factors no longer allowed, but those are no longer accepted at sign-in
    (``signin/second_factor.py``); a member left with none is led to add an allowed one
    (``signin/forced_enrollment.py``). Backup codes stay valid whatever the factors. Remembered
    browsers of an account that turns them off no longer count, from their next use.
    """
    require_administrator(actor)
    after = None
    if methods is not None:
        unknown = [method for method in methods if method not in METHODS]
        if unknown or not methods:
            message = METHODS_MESSAGE if not unknown else f"Unknown method: {', '.join(unknown)}."
            raise FlowError(message, code="methods_invalid", param="allowed_two_factor_methods")
        after = tuple(method for method in METHODS if method in methods)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        before = (allowed_methods_of(organization), organization.allow_remembered_devices)
        if after is not None and organization.require_two_factor:
            _require_enrollable(after, param="allowed_two_factor_methods")
        if after is not None:
            # Every method stored as "all": a method added to ``METHODS`` later is allowed too.
            organization.allowed_two_factor_methods = [] if after == METHODS else list(after)
        if allow_remembered_devices is not None:
            organization.allow_remembered_devices = allow_remembered_devices
        organization.save(update_fields=["allowed_two_factor_methods", "allow_remembered_devices"])
    now = (allowed_methods_of(organization), organization.allow_remembered_devices)
    changes: dict[str, Any] = {}
    if before[0] != now[0]:
        changes["allowed_two_factor_methods"] = {"from": list(before[0]), "to": list(now[0])}
    if before[1] != now[1]:
        changes["allow_remembered_devices"] = {"from": before[1], "to": now[1]}
    if changes:
        record(Event.POLICY_CHANGED, actor=actor.user, organization=organization, detail=changes)
    actor.organization = organization
    return organization


def change_security_policy(
    actor: Membership,
    *,
    require_two_factor: bool,
    grace_days: int,
    methods: Sequence[str] | None = None,
    allow_remembered_devices: bool | None = None,
) -> Organization:
    """Save the mandatory-2FA rule and the method policy together, or neither: what
    "Account & Security" and ``PATCH /api/v1/organization/security`` both save.

    Checked against each other (``no_enrollable_method``): the new methods before a rule that
    requires 2FA, the rule before methods that no longer need to be enrollable; a refusal of
    either leaves both unsaved. ``None`` leaves that part of the method policy as is.
    """

    def change_rule() -> None:
        change_policy(actor, require_two_factor=require_two_factor, grace_days=grace_days)

    def change_methods() -> None:
        if methods is not None or allow_remembered_devices is not None:
            change_method_policy(
                actor, methods=methods, allow_remembered_devices=allow_remembered_devices
            )

    steps = (change_methods, change_rule) if require_two_factor else (change_rule, change_methods)
    with transaction.atomic():
        for step in steps:
            step()
    return actor.organization
