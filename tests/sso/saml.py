"""An account's SAML connection to the saml-idp peer, and a sign-in through it as a browser does.

``acme_idp`` plays the identity provider of the account "acme.test" (the ``administrator`` and
``member`` fixtures' account); its connection has the slug ``acme`` and claims ``acme.test``.
``globex_idp`` plays another account's IdP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.peers.harness import SAML_PASSWORD, SamlIdp, SamlPost, saml_idp
from twofold import clock
from twofold.organizations.models import Organization
from twofold.sso.models import EmailDomain, SamlConnection

SERVER = "http://testserver"


def acs_url(slug: str) -> str:
    return f"{SERVER}/accounts/saml/{slug}/acs/"


def entity_id(slug: str) -> str:
    return f"{SERVER}/accounts/saml/{slug}/metadata/"


@pytest.fixture(scope="module")
def acme_idp() -> Iterator[SamlIdp]:
    with saml_idp(
        acs_url=acs_url("acme"), audience=entity_id("acme"), entity_id="urn:acme:idp"
    ) as idp:
        yield idp


@pytest.fixture(scope="module")
def globex_idp() -> Iterator[SamlIdp]:
    with saml_idp(
        acs_url=acs_url("globex"), audience=entity_id("globex"), entity_id="urn:globex:idp"
    ) as idp:
        yield idp


def connect(
    organization: Organization, idp: SamlIdp, *, slug: str, domain: str, **fields: Any
) -> SamlConnection:
    """The account's connection to ``idp``, which "Sign in with SSO" finds by ``domain`` (its
    claim verified); the
    IdP (shared by a module's tests) starts asserting a password-only login."""
    idp.set_authn_context(SAML_PASSWORD)
    connection = SamlConnection.objects.create(
        organization=organization,
        slug=slug,
        name=f"{organization.name} IdP",
        idp_entity_id=idp.entity_id,
        idp_sso_url=idp.sso_url,
        idp_certificate=idp.certificate,
        **fields,
    )
    EmailDomain.objects.create(
        organization=organization, domain=domain, connection=connection, verified_at=clock.now()
    )
    return connection


@dataclass(frozen=True)
class Redirect:
    """Our redirect to the identity provider (HTTP-Redirect binding)."""

    saml_request: str
    relay_state: str


def start(client: Client, email: str) -> Redirect:
    """ "Sign in with SSO" with a work email; the redirect to the identity provider."""
    answer = client.post("/accounts/sso/", {"email": email})
    assert answer.status_code == 302, answer.content[:500]
    return redirect_of(answer["Location"])


def redirect_of(location: str) -> Redirect:
    query = parse_qs(urlsplit(location).query)
    return Redirect(query["SAMLRequest"][0], query.get("RelayState", [""])[0])


def at_idp(idp: SamlIdp, redirect: Redirect, *, email: str) -> SamlPost:
    return idp.sign_in(redirect.saml_request, email=email, relay_state=redirect.relay_state)


def post_to_acs(client: Client, posted: SamlPost, *, saml_response: str | None = None) -> Any:
    """The browser posts the IdP's form to our ACS, then follows to the finish; its answer."""
    path = urlsplit(posted.acs_url).path
    data = {"SAMLResponse": saml_response or posted.saml_response, "RelayState": posted.relay_state}
    answer = client.post(path, data)
    assert answer.status_code == 302, answer.content[:500]
    return client.get(answer["Location"])


def sign_in(client: Client, idp: SamlIdp, *, email: str) -> Any:
    """A whole SAML round trip started with "Sign in with SSO"; our last answer."""
    return post_to_acs(client, at_idp(idp, start(client, email), email=email))
