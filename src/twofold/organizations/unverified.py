"""Sign-ups that never proved their address hold it only until someone proves it, or they expire.

Anyone may sign up with any address (``new-hire@company.example``) and never enter the emailed
code. Such a sign-up is **unproven**: no verified address and never signed in (a sign-up with
``TWOFOLD_EMAIL_VERIFICATION`` optional or none signs in at once, so is never unproven; an
invitation, ``create-account`` and SSO just-in-time membership verify the address they create).
An unproven sign-up no longer blocks an invitation of its address: accepting the invitation,
which proves the address, deletes it and its empty account (:func:`release_address`); and
``twofold purge-unverified`` deletes those older than :data:`LIFETIME`
(:func:`purge_expired`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from twofold.organizations.models import Membership, Organization
from twofold.users.models import User

# allauth's own emailed confirmation links last 3 days (ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS);
# a sign-up not proven by then is deleted. It never signed in, so nothing of it is lost: signing
# up again is one form.
LIFETIME = timedelta(days=3)


def unproven() -> QuerySet[User]:
    """Users who never signed in and have no verified address."""
    verified = EmailAddress.objects.filter(user_id=OuterRef("pk"), verified=True)
    return User.objects.filter(last_login__isnull=True).exclude(Exists(verified))


def address_taken(email: str) -> bool:
    """``email`` belongs to a user who proved it or signed in: it cannot be invited."""
    return User.objects.filter(email__iexact=email).exclude(pk__in=unproven()).exists()


def release_address(email: str) -> bool:
    """Inside the caller's transaction: delete the unproven sign-up holding ``email`` and its
    account; True if one was deleted. Its rows are locked and checked again first, so a sign-up
    whose code is being entered at this moment either wins (verified first: kept, and the
    caller sees the address taken) or is deleted before its verification can write."""
    holder = User.objects.select_for_update().filter(email__iexact=email).first()
    if holder is None:
        return False
    # Locks the address rows that allauth's verification updates: whichever comes second waits.
    addresses = list(EmailAddress.objects.select_for_update().filter(user_id=holder.pk))
    if holder.last_login is not None or any(address.verified for address in addresses):
        return False
    _delete(holder)
    return True


@dataclass(frozen=True)
class UnverifiedPurge:
    count: int  # sign-ups deleted (or, in a dry run, that would be)
    cutoff: datetime


def purge_expired(*, now: datetime, dry_run: bool = False) -> UnverifiedPurge:
    """Delete unproven sign-ups that joined over :data:`LIFETIME` ago, with their accounts."""
    cutoff = now - LIFETIME
    expired = unproven().filter(date_joined__lt=cutoff)
    if dry_run:
        return UnverifiedPurge(count=expired.count(), cutoff=cutoff)
    count = 0
    for email in list(expired.values_list("email", flat=True)):
        # One at a time, each checked again under its lock (release_address): a sign-up whose
        # owner enters the code right now is kept.
        with transaction.atomic():
            count += release_address(email)
    return UnverifiedPurge(count=count, cutoff=cutoff)


def _delete(user: User) -> None:
    """The user (their membership and addresses go with them) and the account they signed up,
    unless someone else belongs to it."""
    organization_ids = list(
        Membership.objects.filter(user_id=user.pk).values_list("organization_id", flat=True)
    )
    user.delete()
    others = Membership.objects.filter(organization_id=OuterRef("pk"))
    Organization.objects.filter(pk__in=organization_ids).exclude(Exists(others)).delete()
