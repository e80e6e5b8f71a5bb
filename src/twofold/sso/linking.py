"""Linking a member's own SAML subject to their Twofold user (issue 16, item 18).

A member who had a password before their account's SAML connection existed has no link to it;
with "Require SSO" their password is refused, and "Sign in with SSO" does not know them (a subject
is never matched by email). Two ways in, both with the member's proof *and* the identity
provider's:

- **From the settings page**, signed in: "Link <connection>" (after re-authentication, like
  Google and Microsoft) runs allauth's ``connect`` through the connection.
- **At sign-in**, when "Require SSO" refuses the password: the right password leaves a *link
  ticket* in the session (this member, this connection, 10 minutes, used once), and the page
  offers "Continue to <connection>". The identity provider's answer in the same browser session
  is linked to the member, and the member is signed in through it (its 2FA policy applies).

Either way the connection must be one of the member's account, and the identity provider must
assert the member's own email address: a stolen password plus another person's identity at the
company's identity provider never links that person to the member.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.db import transaction
from django.utils.translation import gettext_lazy

from twofold.errors import NotFound
from twofold.organizations.models import membership_of
from twofold.sso import flows
from twofold.sso.jit import email_of
from twofold.sso.models import SAML_PROVIDER_PREFIX, SamlConnection
from twofold.users.models import User

TICKET = "twofold_sso_link"
# Long enough for a sign-in at the identity provider, short enough to be of no use later.
TICKET_LIFETIME = 600
NO_SUCH_CONNECTION = gettext_lazy("There is no such single sign-on connection in your account.")


# --- Which connection -----------------------------------------------------------------------------


def account_connections(user: User) -> list[SamlConnection]:
    """The SAML connections of the member's account, for their settings page."""
    membership = membership_of(user)
    if membership is None:
        return []
    return list(SamlConnection.objects.of(membership.organization).order_by("name", "pk"))


def saml_identity_providers(user: User) -> list[flows.IdentityProvider]:
    """The account's SAML connections as the settings page lists them, each with the member's
    link to it, if any."""
    connections = account_connections(user)
    linked = {
        a.provider: a
        for a in SocialAccount.objects.filter(
            user=user, provider__in=[c.provider_id for c in connections]
        )
    }
    return [
        flows.IdentityProvider(c.provider_id, c.name, linked.get(c.provider_id), c.pk)
        for c in connections
    ]


def linkable_connection(user: User, connection_id: int) -> SamlConnection:
    """A connection of the member's own account (``NotFound`` for any other)."""
    membership = membership_of(user)
    found = (
        SamlConnection.objects.of(membership.organization).filter(pk=connection_id).first()
        if membership is not None
        else None
    )
    if found is None:
        raise NotFound(NO_SUCH_CONNECTION)
    return found


def connection_to_link(user: User) -> SamlConnection | None:
    """The connection a member refused by "Require SSO" may link at sign-in: the one "Sign in with
    SSO" sends their email to, of their own account, when they have no link to it yet."""
    try:
        connection = flows.connection_for_email(user.email)
    except NotFound:
        return None
    membership = membership_of(user)
    if membership is None or connection.organization_id != membership.organization_id:
        return None
    if SocialAccount.objects.filter(user=user, provider=connection.provider_id).exists():
        return None
    return connection


def asserts_members_email(user: User, sociallogin: SocialLogin) -> bool:
    """The identity provider names the member's own email address (compared case-insensitively)."""
    asserted = email_of(sociallogin)
    return bool(asserted) and asserted == user.email.strip().lower()


# --- The link ticket of a sign-in refused by "Require SSO" ----------------------------------------


def offer(session: Any, user: User, connection: SamlConnection) -> None:
    """The password was right: this session may link ``connection`` to ``user`` for a while."""
    session[TICKET] = {
        "user": user.pk,
        "connection": connection.slug,
        "until": time.time() + TICKET_LIFETIME,
    }


def offered_connection(session: Any) -> SamlConnection | None:
    """The connection of this session's unexpired ticket, for the page that offers it."""
    ticket = session.get(TICKET)
    if not isinstance(ticket, dict) or ticket.get("until", 0) < time.time():
        return None
    return SamlConnection.objects.filter(slug=ticket.get("connection")).first()


def take_ticket(session: Any, sociallogin: SocialLogin) -> User | None:
    """The member this session's ticket names, when it is for the connection of ``sociallogin``
    and unexpired; the ticket is used up either way (one answer per ticket)."""
    ticket = session.get(TICKET)
    connection = sociallogin.account.provider.removeprefix(SAML_PROVIDER_PREFIX)
    if not isinstance(ticket, dict) or ticket.get("connection") != connection:
        return None
    del session[TICKET]
    user_id = ticket.get("user")
    if ticket.get("until", 0) < time.time() or not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


# --- The link ------------------------------------------------------------------------------------


def link(user: User, sociallogin: SocialLogin) -> bool:
    """Link the answer's subject to ``user``; False when ``user`` already has a link to this
    connection. The user's row is locked, so that two answers at once link one subject."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        provider = sociallogin.account.provider
        if SocialAccount.objects.filter(user=user, provider=provider).exists():
            return False
        sociallogin.user = user
        sociallogin.account.user = user
        sociallogin.account.save()
    return True
