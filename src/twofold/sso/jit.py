"""Just-in-time membership: a person of a domain an account claims, signing in for the first time
through one of that account's identity providers, becomes a member (off unless the account ticks
"just in time" on the domain).

Never by email alone (the "nOAuth" class): the identity provider must vouch for the domain.
- SAML: the connection belongs to the account that claims the domain.
- Google: a Workspace account of that very domain (``hd``) with a verified email.
- Microsoft: a tenant the account allows (checked by the adapter) and the email's domain.
An email already used by a Twofold user is not taken over: that person signs in with their
password and links the identity provider from their settings.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialLogin
from django.db import transaction

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.organizations.models import Membership, Organization, Role
from twofold.sso.domains import domain_of_email
from twofold.sso.models import EmailDomain
from twofold.sso.oidc import id_token_claims
from twofold.sso.saml import connection_of_provider
from twofold.users.models import User

GOOGLE = "google"


def email_of(sociallogin: SocialLogin) -> str:
    addresses = sociallogin.email_addresses
    return addresses[0].email.strip().lower() if addresses else ""


def organization_for(sociallogin: SocialLogin) -> Organization | None:
    """The account this newcomer would join, if its verified claim of their domain allows just
    in time and their identity provider vouches for it (an unverified claim lets nobody join)."""
    email = email_of(sociallogin)
    claimed = (
        EmailDomain.objects.verified()
        .select_related("organization")
        .filter(domain=domain_of_email(email), just_in_time=True)
        .first()
    )
    if not email or claimed is None:
        return None
    provider = sociallogin.account.provider
    connection = connection_of_provider(provider)
    if connection is not None:
        vouched = connection.organization_id == claimed.organization_id
    elif provider == GOOGLE:
        vouched = _google_vouches(id_token_claims(sociallogin), claimed.domain)
    else:
        vouched = True  # Microsoft: the tenant allow-list is checked before (adapter.py)
    return claimed.organization if vouched else None


def _google_vouches(claims: dict[str, Any], domain: str) -> bool:
    return claims.get("hd") == domain and claims.get("email_verified") is True


def email_taken(sociallogin: SocialLogin) -> bool:
    return User.objects.filter(email=email_of(sociallogin)).exists()


def join(sociallogin: SocialLogin, organization: Organization) -> User:
    """Create the member and link the subject, together or not at all."""
    email = email_of(sociallogin)
    with transaction.atomic():
        user = User.objects.create_user(email=email)
        Membership.objects.create(user=user, organization=organization, role=Role.MEMBER)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        sociallogin.user = user
        sociallogin.account.user = user
        sociallogin.account.save()
        record(
            Event.SSO_JOINED,
            subject=user,
            organization=organization,
            factor="sso",
            detail={"provider": sociallogin.account.provider, "domain": domain_of_email(email)},
        )
    return user
