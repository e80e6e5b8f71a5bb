"""A sign-up with an address that already has an account costs what a new sign-up costs.

allauth's enumeration prevention (``ACCOUNT_PREVENT_ENUMERATION``) answers such a sign-up like a
new one (pending the email code; the owner is emailed "Account Already Exists"), but skipped a
new sign-up's work: the password hash, the rows of the user, the account, the membership and the
address, and the reads of the new user on the way to the email code. Measured, the answer came
in 16 ms for a taken address against 97 ms for a new one: one request told them apart (ASVS
6.3.8). :func:`imitate` does that work for a stand-in user and rolls it back: the same hash (same
hasher, same hash slot), the same statements on the same tables in one transaction (on SQLite
the same write lock), and nothing is kept. ``tests/organizations/test_sign_up_cost.py`` checks
that both paths hash once and run the same statements, so a change on either side shows.
"""

from __future__ import annotations

import secrets

from allauth.account.models import EmailAddress
from allauth.account.utils import cleanup_email_addresses, has_verified_email
from django.db import transaction
from django.http import HttpRequest

from twofold.organizations.flows import create_organization
from twofold.sso import policy as sso_policy
from twofold.users.models import User

# RFC 2606 reserves ``.invalid``: the stand-in's address can never be anyone's.
STAND_IN_DOMAIN = "sign-up.invalid"


class _RolledBack(Exception):
    """Leaves the imitation's transaction, undoing every row it wrote."""


def imitate(request: HttpRequest, *, api: bool) -> None:
    """Hash a password, write a sign-up's rows and read them as the email-code step does (and,
    for an ``api`` answer, as allauth's answer does), then roll back: nothing has changed, and
    the request took as long as a new sign-up."""
    try:
        with transaction.atomic():
            user = _save(request)
            _read_as_the_email_step(user)
            if api:
                # allauth's JSON answer reads the pending login's user back (``Login.deserialize``).
                User.objects.filter(pk=user.pk).get()
            raise _RolledBack
    except _RolledBack:
        pass


def _save(request: HttpRequest) -> User:
    """What allauth's ``SignupForm.save`` does for a new address, with Twofold's adapter."""
    address = f"{secrets.token_hex(16)}@{STAND_IN_DOMAIN}"
    user = User(email=address)
    # The sign-up's one hash: a random password costs what the typed one costs (argon2id's cost
    # is its parameters', not the password's).
    user.set_password(secrets.token_urlsafe(24))
    user.save()
    create_organization(user, "Sign-up")
    # allauth's ``setup_user_email``: no address yet; the user's address and the form's (the
    # same one) looked up for uniqueness; the one left saved.
    EmailAddress.objects.filter(user_id=user.pk).exists()
    given = [EmailAddress(email=address, primary=True), EmailAddress(email=address)]
    addresses, _ = cleanup_email_addresses(request, given)
    for row in addresses:
        row.user = user
        row.save()
    return user


def _read_as_the_email_step(user: User) -> None:
    """The reads of a new user's login on its way to the email code: the SSO rule
    (``SsoRequiredStage``), whether the address is verified, the address, its user, the address
    again (allauth's ``EmailVerificationStage`` and its code process)."""
    sso_policy.sso_required(user)
    has_verified_email(user, user.email)
    address = EmailAddress.objects.filter(user_id=user.pk, email=user.email).get()
    User.objects.filter(pk=address.user_id).get()
    EmailAddress.objects.filter(user_id=user.pk, email=user.email).get()
