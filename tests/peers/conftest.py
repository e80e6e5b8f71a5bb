"""The identity-provider peers, one of each per module: each test asks for what it asserts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.harness import OidcProvider, SamlIdp, oidc_provider, saml_idp


@pytest.fixture(scope="module")
def google() -> Iterator[OidcProvider]:
    """An OpenID Connect provider playing Google: issuer at the root, no tenant."""
    with oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def company_idp() -> Iterator[SamlIdp]:
    """A company's SAML identity provider."""
    with saml_idp() as idp:
        yield idp
