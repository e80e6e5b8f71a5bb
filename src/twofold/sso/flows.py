"""The identity providers a member can sign in with, which of them they linked, and which SAML
connection "Sign in with SSO" takes a work email to."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.utils.translation import gettext_lazy

from twofold.errors import NotFound
from twofold.sso.domains import domain_of_email
from twofold.sso.models import EmailDomain, SamlConnection
from twofold.users.models import User


@dataclass(frozen=True)
class IdentityProvider:
    provider_id: str
    name: str
    linked: SocialAccount | None
    connection_id: int | None = None  # a SAML connection's, which its "Link" button names


def configured() -> list[tuple[str, str]]:
    """(provider_id, name) of each OpenID Connect provider offered, in settings order."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return [(str(app["provider_id"]), str(app["name"])) for app in apps]


def identity_providers(user: User) -> list[IdentityProvider]:
    linked = {a.provider: a for a in SocialAccount.objects.filter(user=user)}
    return [IdentityProvider(pid, name, linked.get(pid)) for pid, name in configured()]


NO_SSO_FOR_DOMAIN = gettext_lazy(
    "No single sign-on is set up for this email address. Sign in with your password, or with "
    "Google or Microsoft."
)


def connection_for_email(email: str) -> SamlConnection:
    """ "Sign in with SSO": the SAML connection of the account whose claim of the email's domain
    is verified (an unverified claim routes nobody: anyone can claim any domain)."""
    domain = domain_of_email(email)
    claimed = (
        EmailDomain.objects.verified().select_related("connection").filter(domain=domain).first()
        if domain
        else None
    )
    if claimed is None or claimed.connection is None:
        raise NotFound(NO_SSO_FOR_DOMAIN, code="no_sso_for_domain", param="email")
    return claimed.connection
