"""Whose failed sign-ins an attempt counts towards: the account, and nothing the request says
about itself (ASVS 6.3.1).

allauth keys its per-account limit (``login_failed``, 5 in 5 minutes) on the request's host
and the email (``DefaultAccountAdapter._get_login_attempts_cache_key``). Django lets through
every spelling of an allowed host (a port, upper case, a trailing dot), and each one started a
fresh count of 5 for the same member. Here the key is the user the address signs in to, read
the way allauth's backend finds it (``userkit.filter_users_by_email``: the verified address
first), so each of a member's addresses counts towards one limit; an address of nobody (or of a
user without address rows) is keyed on the address itself, lower-cased as allauth compares it.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress


@dataclass(frozen=True)
class SignInAccount:
    """The limit's key for one sign-in address, and the address rows read to find it."""

    key: str
    # Every address of the users the sign-in address belongs to: ``adapter._remember_addresses``
    # keeps the signed-in user's for allauth, so finding the key costs no query of its own.
    addresses: tuple[EmailAddress, ...]


def normalized(email: str) -> str:
    """The address as allauth's backend looks it up (``email.lower()``), surrounding blanks
    dropped as the sign-in forms drop them."""
    return email.strip().lower()


def for_sign_in(email: str) -> SignInAccount:
    """The account ``email`` signs in to, as the limit's key: ``user:<id>`` for the one user
    allauth's backend would try, else ``email:<address>``. One query."""
    address = normalized(email)
    owners = EmailAddress.objects.filter(email=address).values("user_id")
    rows = tuple(EmailAddress.objects.filter(user_id__in=owners).order_by("pk"))
    matching = [row for row in rows if row.email == address]
    # allauth's backend tries only the verified address's user when there is one.
    users = {row.user_id for row in matching if row.verified} or {row.user_id for row in matching}
    if len(users) == 1:
        return SignInAccount(key=f"user:{users.pop()}", addresses=rows)
    return SignInAccount(key=f"email:{address}", addresses=rows)
