"""Google and Microsoft played by the OpenID Connect peer, wired into allauth's settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.peers.harness import OidcProvider, oidc_provider
from tests.sso.dns_zone import dns_server, dns_zone  # noqa: F401  (fixtures: a DNS server)
from twofold.config.secret import Secret
from twofold.config.sso import OidcClient, SsoSettings, allauth_providers
from twofold.organizations.models import Membership

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def callback_for(provider_id: str) -> str:
    return f"http://testserver/accounts/oidc/{provider_id}/login/callback/"


@pytest.fixture(scope="module")
def google() -> Iterator[OidcProvider]:
    with oidc_provider(redirect_uri=callback_for("google")) as provider:
        yield provider


@pytest.fixture(scope="module")
def microsoft() -> Iterator[OidcProvider]:
    with oidc_provider(
        redirect_uri=callback_for("microsoft"),
        # allauth tells its apps apart by client id when it resumes a login: ids differ in real
        # life too (Google's and Entra's).
        client_id="twofold-microsoft",
        issuer_path=f"/{TENANT}/v2.0",
        tid=TENANT,
    ) as provider:
        yield provider


def client_of(provider_id: str, name: str, peer: OidcProvider) -> OidcClient:
    return OidcClient(provider_id, name, peer.client_id, Secret(peer.client_secret), peer.issuer)


@pytest.fixture
def sso(settings: Any, google: OidcProvider, microsoft: OidcProvider) -> None:
    """Twofold offers "Sign in with Google" and "Sign in with Microsoft", both at the peers."""
    configured = SsoSettings(
        google=client_of("google", "Google", google),
        microsoft=client_of("microsoft", "Microsoft", microsoft),
    )
    settings.SOCIALACCOUNT_PROVIDERS = allauth_providers(configured)


def link(membership: Membership, provider_id: str, sub: str) -> SocialAccount:
    return SocialAccount.objects.create(user=membership.user, provider=provider_id, uid=sub)


def start(client: Client, provider_id: str, *, process: str = "login") -> str:
    """Press "Sign in with ..." (a POST); the redirect to the identity provider."""
    answer = client.post(f"/accounts/oidc/{provider_id}/login/?process={process}")
    assert answer.status_code == 302, answer.content[:500]
    return str(answer["Location"])


def sign_in(
    client: Client,
    peer: OidcProvider,
    provider_id: str,
    *,
    email: str,
    sub: str,
    amr: tuple[str, ...] = ("pwd",),
    acr: str | None = None,
    hd: str | None = None,
    process: str = "login",
) -> Any:
    """A whole round trip through the identity provider; our callback's answer."""
    callback = peer.sign_in(
        start(client, provider_id, process=process), email=email, sub=sub, amr=amr, acr=acr, hd=hd
    )
    return client.get(callback)


def allow_tenant(membership: Membership, tenant: str = TENANT) -> None:
    """The member's account accepts Microsoft sign-ins from ``tenant``."""
    from twofold.sso.models import AccountSso

    sso, _ = AccountSso.objects.get_or_create(organization=membership.organization)
    sso.microsoft_tenants = [*sso.microsoft_tenants, tenant]
    sso.save()
