"""Access tokens as JWTs (RFC 9068), so that an application's API can tell, without asking
Twofold, how strongly the member signed in.

Signed with the provider's key (jwcrypto, as the toolkit signs ID tokens), ``typ`` ``at+jwt``,
with ``iss``, ``exp``, ``aud``, ``sub``, ``client_id``, ``iat``, ``jti``, ``scope`` and the
sign-in's ``auth_time``, ``acr``, ``amr`` and ``sid`` (RFC 9068 2.2.1; the same proof as the ID
token's, kept through refreshes). ``aud`` is the resources the application asked for (RFC 8707),
else its client id. The toolkit still stores each token (as a hash) and checks it at userinfo,
revocation and introspection as before. Refresh tokens stay random.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from django.conf import settings
from jwcrypto import jwt
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from twofold.idp.assurance import Proof
from twofold.idp.issuer import issuer
from twofold.idp.subject import subject_of

TYPE = "at+jwt"


def signed(request: Any, refresh_token: bool = False) -> str:
    """oauthlib's token generator (the toolkit's ``ACCESS_TOKEN_GENERATOR``)."""
    client = request.client
    now = int(time.time())
    resources = [r for r in (getattr(request, "resource", None) or []) if isinstance(r, str)]
    claims: dict[str, Any] = {
        "iss": issuer(),
        "exp": now + int(settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]),
        "aud": resources or client.client_id,
        "sub": subject_of(request.user, client),
        "client_id": client.client_id,
        "iat": now,
        "jti": secrets.token_urlsafe(16),
        "scope": " ".join(request.scopes or []),
    }
    proof: Proof | None = getattr(request, "twofold_proof", None)
    if proof is not None:
        claims.update(acr=proof.acr, amr=proof.amr, sid=proof.sid)
        if proof.auth_time is not None:
            claims["auth_time"] = int(proof.auth_time.timestamp())
    key = client.jwk_key
    header = {"typ": TYPE, "alg": client.algorithm, "kid": key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return str(token.serialize())


def opaque(request: Any, refresh_token: bool = False) -> str:
    """Refresh tokens: random, as oauthlib makes them (the toolkit would otherwise use the
    access token's generator for them too)."""
    return str(random_token_generator(request, refresh_token))
