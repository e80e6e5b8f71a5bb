"""Changes that concern all of a member's second factors: preferred one, removal, turning off.

One set of backup codes per member, whatever the factors: removing a factor while another stays
keeps them; removing the last factor is turning two-factor authentication off, which the
account's policy may refuse (``policy.two_factor_required``).

Every removal reads the member's factors and deletes inside one transaction that holds the
member's row (:func:`factors_locked`): removals of the same member run one after the other, so
two removals at the same moment (of two factors, or of the last two keys) cannot each see another
factor left and both delete, leaving none while the account requires 2FA.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, NotAllowed
from twofold.factors import member_factors, methods, notifications, policy
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.models import PreferredFactor
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor
from twofold.users.models import User

REQUIRED = gettext_lazy(
    "Your account requires two-factor authentication, so it cannot be turned off. "
    "You can change your number instead."
)


@dataclass(frozen=True)
class Removed:
    """What a removal did, announced (email, audit) once its transaction has committed."""

    event: Event | None  # FACTOR_REMOVED, TWO_FACTOR_DISABLED; None: nothing was removed
    factor: str = ""  # the audit's factor: the method removed, or those turned off
    label: str = ""  # the factor removed, as the member's email names it

    def announce(self, user: User) -> None:
        if self.event == Event.FACTOR_REMOVED:
            notifications.send_factor_removed(user, self.label)
        elif self.event == Event.TWO_FACTOR_DISABLED:
            notifications.send_two_factor_disabled(user)
        if self.event is not None:
            record(self.event, subject=user, factor=self.factor)


NOTHING = Removed(event=None)


@contextmanager
def factors_locked(user: User) -> Iterator[None]:
    """A transaction holding the member's row until it ends: read the factors and delete inside.

    The lock is the user row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``IMMEDIATE``
    transactions already run one writer at a time), so every removal of the member, whichever
    factor, waits for the one before and then sees what it left.
    """
    with transaction.atomic():
        # Serializes this member's removals: a read outside the lock could be stale at the delete.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        yield


def remove_factor(user: User, method: str) -> None:
    """Remove one factor; the last one only as :func:`turn_off` (refused when required)."""
    with factors_locked(user):
        removed = remove_locked(user, method)
    removed.announce(user)


def remove_locked(user: User, method: str) -> Removed:
    """:func:`remove_factor` inside :func:`factors_locked` (a security key's removal uses it):
    the factors are read under the lock, so the "is it the last one?" answer still holds at the
    delete."""
    available = member_factors.methods(user)
    if method not in available:
        raise Conflict(
            gettext("%(_label)s is not set up.") % {"_label": _label(method)}, code="factor_missing"
        )
    if available == [method]:
        if policy.two_factor_required(user):
            raise NotAllowed(
                gettext(
                    "Your account requires two-factor authentication, and this is your only "
                    "method: add another one first."
                ),
                code="two_factor_required",
            )
        return _turn_off_locked(user, available)
    deleted = _delete(user, method)
    PreferredFactor.objects.filter(user=user, method=method).delete()
    return Removed(Event.FACTOR_REMOVED, method, _label(method)) if deleted else NOTHING


def turn_off(user: User) -> None:
    """Every factor and backup code goes; refused while the account requires 2FA."""
    if policy.two_factor_required(user):
        raise NotAllowed(REQUIRED, code="two_factor_required")
    with factors_locked(user):
        removed = _turn_off_locked(user, member_factors.methods(user))
    removed.announce(user)


def _turn_off_locked(user: User, available: list[str]) -> Removed:
    deleted = sum(_delete(user, method) for method in methods.METHODS)
    PendingSmsEnrollment.objects.filter(user=user).delete()
    PreferredFactor.objects.filter(user=user).delete()
    backup_codes.remove_all(user)
    return Removed(Event.TWO_FACTOR_DISABLED, ",".join(available)) if deleted else NOTHING


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
    return str(methods.LABELS.get(method, method))
