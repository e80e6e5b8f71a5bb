"""An administrator's reset of a member's two-factor authentication, for a lost phone.

Everything of the member's second factors goes at once (the factor, an enrollment or number
change in progress, the codes sent, the backup codes), so nothing of the old factor can be used or
resumed; every session of theirs ends on every worker, so none keeps the aal2 the old factor gave.
The member is emailed (ASVS 6.3.7) and the reset audited (ASVS 16.3.1). When the account requires
2FA, the enrollment stage takes them through setting it up again at their next sign-in.

The administrator's own recent authentication (ASVS 7.5.1) is checked by the page and the
endpoint before they call this, as for every change to two-factor authentication.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict
from twofold.factors import lockout, member_factors, notifications, policy, removal
from twofold.factors.sms.models import SmsCode, SmsFactor
from twofold.organizations.flows import get_member
from twofold.organizations.models import Membership, require_administrator
from twofold.sessions.member_sessions import end_all_sessions
from twofold.sms.numbers import mask
from twofold.users.models import User


@dataclass(frozen=True)
class Resettable:
    """A member whose 2FA the actor may reset, and what a reset would do: the confirmation."""

    member: Membership
    factors: member_factors.FactorSummary
    enrolls_again: bool  # the account requires 2FA: set up again at the next sign-in


def resettable(actor: Membership, membership_id: int) -> Resettable:
    """Raise NotFound for anyone outside the account; Conflict for the actor themselves (their own
    settings page turns 2FA off, after their own re-authentication) and for a member without 2FA.
    """
    require_administrator(actor)
    target = get_member(actor, membership_id)
    if target.pk == actor.pk:
        raise Conflict(
            gettext(
                "You cannot reset your own two-factor authentication. To turn it off or change "
                "your number, use your Password and Two-Factor Authentication page."
            ),
            code="cannot_reset_self",
        )
    factors = member_factors.summary(target)
    if not factors.enabled:
        raise _no_factor(target.user)
    return Resettable(target, factors, policy.two_factor_required(target.user))


def reset_two_factor(actor: Membership, membership_id: int) -> Membership:
    """Remove the second factors of a member of the actor's account and sign them out
    everywhere. Refused as :func:`resettable` says."""
    found = resettable(actor, membership_id)
    user = found.member.user
    masked_phone, removed = _remove_factors(user)
    end_all_sessions(user)
    notifications.send_two_factor_reset(
        user, administrator=actor.user, required=found.enrolls_again
    )
    detail = {"masked_phone": masked_phone}  # never the full number in the audit log
    factor = ",".join(removed)
    record(Event.TWO_FACTOR_RESET, subject=user, actor=actor.user, factor=factor, detail=detail)
    return get_member(actor, membership_id)  # afresh: ``found`` still holds the old factor


def _no_factor(user: User) -> Conflict:
    return Conflict(
        gettext("%(email)s has no two-factor authentication to reset.") % {"email": user.email},
        code="two_factor_off",
    )


def _remove_factors(user: User) -> tuple[str | None, list[str]]:
    """Delete every trace of the user's second factors (SMS, authenticator app) in one
    transaction; the masked number, if there was one, and the methods removed."""
    with transaction.atomic():
        factor = SmsFactor.objects.filter(user=user).first()
        # The deleted counts decide: of two administrators resetting at once, one resets.
        removed = removal.remove_all(user)
        if not removed:
            raise _no_factor(user)
        SmsCode.objects.filter(user=user).delete()
        # The failure count of the old factor must not lock the member out of enrolling anew.
        lockout.clear(user.pk)
    return (mask(factor.phone) if factor else None), removed
