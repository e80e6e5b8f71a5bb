"""Twofold verifies the ID token itself (DESIGN.md "SSO"): a few forged tokens, refused."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.harness import OidcProvider
from twofold.sso.oidc import expected_issuer, verify_id_token


def claims(provider: OidcProvider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": provider.issuer,
        "aud": provider.client_id,
        "sub": "s",
        "iat": now,
        "exp": now + 60,
    }
    return {**base, **changes}


def forged(provider: OidcProvider, payload: dict[str, Any], *, algorithm: str = "RS256") -> str:
    """Signed with a key of our own, under the kid of the provider's real key."""
    kid = provider.jwks()["keys"][0]["kid"]
    key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "none":
        key = None
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


@pytest.mark.django_db
@pytest.mark.parametrize("algorithm", ["RS256", "none"], ids=["another_key", "alg_none"])
def test_id_token_not_signed_by_the_issuer_is_refused(google: OidcProvider, algorithm: str) -> None:
    token = forged(google, claims(google), algorithm=algorithm)

    with pytest.raises(OAuth2Error):
        verify_id_token(token, config=google.discovery(), client_id=google.client_id)


def test_tenant_placeholder_is_filled_in_from_the_token() -> None:
    advertised = "https://login.microsoftonline.com/{tenantid}/v2.0"

    assert (
        expected_issuer(advertised, {"tid": "t-1"}) == "https://login.microsoftonline.com/t-1/v2.0"
    )
    assert expected_issuer("https://accounts.google.com", {"tid": "t-1"}) == (
        "https://accounts.google.com"
    )
