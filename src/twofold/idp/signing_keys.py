"""The keys that verify the provider's tokens, as django-oauth-toolkit holds them: one signs
(``OIDC_RSA_PRIVATE_KEY``), and retired ones stay published in the JWKS
(``OIDC_RSA_PRIVATE_KEYS_INACTIVE``) as long as anything they signed is still accepted
(docs/operations.md, "Rotating the signing key"; config/signing_keys.py keeps them).

Each key is named by its ``kid``, its RFC 7638 thumbprint, as in the tokens' headers and the JWKS.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from twofold.idp import backchannel

# Relying parties' clocks that run a few minutes behind (their leeway on ``exp``), and the
# restart that follows a rotation: until it, the old key still signs.
MARGIN = timedelta(minutes=5)


def retention() -> timedelta:
    """How long a key stays published after it is retired: the longest time anything it signed
    is still accepted, plus :data:`MARGIN`. That is the ID, access and logout tokens' lifetimes,
    and, while an expired ID token is accepted as the ``id_token_hint`` of an RP-initiated logout
    (RP-Initiated Logout 1.0 section 2: for a current or recent session), a session's longest
    life: the hint is checked with the published keys (idp/validator.py)."""
    lifetimes = [
        timedelta(seconds=int(oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)),
        timedelta(seconds=int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)),
        backchannel.TOKEN_LIFETIME,
    ]
    if oauth2_settings.OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS:
        lifetimes.append(timedelta(seconds=settings.SESSION_COOKIE_AGE))
    return max(lifetimes) + MARGIN


def published() -> jwk.JWKSet:
    """The signing key and the retired keys still published, public halves, each under its
    ``kid``: a token signed before a rotation verifies with the key that signed it."""
    pems = (oauth2_settings.OIDC_RSA_PRIVATE_KEY, *oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE)
    return _key_set(tuple(str(pem) for pem in pems if pem))


@functools.lru_cache(maxsize=4)
def _key_set(pems: tuple[str, ...]) -> jwk.JWKSet:
    keys = jwk.JWKSet()
    for pem in pems:
        keys.add(jwk.JWK.from_pem(pem.encode()).public())  # ``kid`` set to the thumbprint
    return keys
