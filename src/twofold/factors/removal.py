"""Changes that concern all of a member's second factors: preferred one, removal, turning off.

One set of backup codes per member, whatever the factors: removing a factor while another stays
keeps them; removing the last factor is turning two-factor authentication off, which the
account's policy may refuse (``policy.two_factor_required``).
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db import transaction

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, NotAllowed
from twofold.factors import member_factors, methods, notifications, policy
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.models import PreferredFactor
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor
from twofold.users.models import User

REQUIRED = (
    "Your account requires two-factor authentication, so it cannot be turned off. "
    "You can change your number instead."
)


def remove_factor(user: User, method: str) -> None:
    """Remove one factor; the last one only as :func:`turn_off` (refused when required)."""
    available = member_factors.methods(user)
    if method not in available:
        raise Conflict(f"{_label(method)} is not set up.", code="factor_missing")
    if available == [method]:
        if policy.two_factor_required(user):
            raise NotAllowed(
                "Your account requires two-factor authentication, and this is your only "
                "method: add another one first.",
                code="two_factor_required",
            )
        turn_off(user)
        return
    with transaction.atomic():
        deleted = _delete(user, method)
        PreferredFactor.objects.filter(user=user, method=method).delete()
    if deleted:
        notifications.send_factor_removed(user, _label(method))
        record(Event.FACTOR_REMOVED, subject=user, factor=method)


def turn_off(user: User) -> None:
    """Every factor and backup code goes; refused while the account requires 2FA."""
    if policy.two_factor_required(user):
        raise NotAllowed(REQUIRED, code="two_factor_required")
    available = member_factors.methods(user)
    with transaction.atomic():
        deleted = sum(_delete(user, method) for method in methods.METHODS)
        PendingSmsEnrollment.objects.filter(user=user).delete()
        PreferredFactor.objects.filter(user=user).delete()
        backup_codes.remove_all(user)
    if deleted:
        notifications.send_two_factor_disabled(user)
        record(Event.TWO_FACTOR_DISABLED, subject=user, factor=",".join(available))


def remove_all(user: User) -> list[str]:
    """An administrator's reset (``reset.py``): everything, whatever the policy; the methods
    that were removed (the deleted counts decide, so of two resets at once one removes)."""
    removed = [method for method in methods.METHODS if _delete(user, method)]
    PreferredFactor.objects.filter(user=user).delete()
    backup_codes.remove_all(user)
    return removed


def _delete(user: User, method: str) -> int:
    if method == methods.SMS:
        PendingSmsEnrollment.objects.filter(user=user).delete()
        return SmsFactor.objects.filter(user=user).delete()[0]
    kind = Authenticator.Type.WEBAUTHN if method == methods.WEBAUTHN else Authenticator.Type.TOTP
    return Authenticator.objects.filter(user=user, type=kind).delete()[0]


def _label(method: str) -> str:
    return methods.LABELS.get(method, method)
