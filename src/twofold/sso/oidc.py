"""allauth's OpenID Connect provider, with the checks it leaves out (DESIGN.md "SSO").

allauth 65.22.1 sends no ``nonce``: each redirect here draws one, sends it, and keeps it in the
login's state (server-side session); :func:`check_callback` compares it with the ID token's
before anyone is signed in or linked, and checks the RFC 9207 ``iss`` of the callback.

allauth skips the ID token's signature when the token came from the token endpoint: the callback
here (routed before allauth's) verifies it against the issuer's JWKS, RS256 only, with ``iss``,
``aud``, ``exp`` and ``iat`` required (:func:`verify_id_token`).

RFC 9207 §2.4: "If the value does not match the expected issuer identifier, clients MUST reject
the authorization response and MUST NOT proceed with the authorization grant", and an issuer that
advertises ``authorization_response_iss_parameter_supported`` must send it: the callback's ``iss``
is checked before the code is redeemed (:func:`check_issuer_parameter`), so a mix-up never hands
one provider's code to another's token endpoint.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest, HttpResponse

from twofold.errors import FlowError

NONCE = "twofold_nonce"


class NonceOpenIDConnectProvider(OpenIDConnectProvider):
    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(self.get_auth_params() if auth_params is None else auth_params)
        nonce = secrets.token_urlsafe(32)
        auth_params["nonce"] = nonce
        kwargs[NONCE] = nonce
        response: HttpResponse = super().redirect(
            request, process, next_url, data, auth_params=auth_params, **kwargs
        )
        return response


def id_token_claims(sociallogin: SocialLogin) -> dict[str, Any]:
    claims = (sociallogin.account.extra_data or {}).get("id_token")
    return dict(claims) if isinstance(claims, dict) else {}


def check_callback(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """Refuse an ID token not issued for this login's nonce, or a callback from another issuer."""
    claims = id_token_claims(sociallogin)
    expected = sociallogin.state.get(NONCE)
    nonce = claims.get("nonce")
    if not expected or not isinstance(nonce, str) or not secrets.compare_digest(nonce, expected):
        raise FlowError("The identity provider's answer was not for this sign-in.", code="nonce")
    issuer = request.GET.get("iss")
    if issuer is not None and issuer != claims.get("iss"):
        raise FlowError("The identity provider's answer came from another issuer.", code="issuer")


# --- The ID token, verified by Twofold (DESIGN.md: allauth skips the signature on the back channel)

ALGORITHMS = ["RS256"]
LEEWAY = 60  # seconds of clock skew allowed for exp / iat
TENANT_PLACEHOLDER = "{tenantid}"


def expected_issuer(advertised: str, unverified: Mapping[str, Any]) -> str:
    """The issuer the token must name: Microsoft's multi-tenant discovery advertises
    ``…/{tenantid}/v2.0``; the token's own ``tid`` fills it in (and is then signed over)."""
    if TENANT_PLACEHOLDER in advertised:
        return advertised.replace(TENANT_PLACEHOLDER, str(unverified.get("tid", "")))
    return advertised


def verify_id_token(token: str, *, config: Mapping[str, Any], client_id: str) -> dict[str, Any]:
    """The claims of ``token`` once its signature (a key of the issuer's JWKS, RS256 only), ``iss``,
    ``aud``, ``exp`` and ``iat`` check out; raise :class:`OAuth2Error` otherwise."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        kid = jwt.get_unverified_header(token).get("kid")
        with get_adapter().get_requests_session() as session:
            answer = session.get(config["jwks_uri"])
            answer.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(answer.json())
        key = next((k for k in keys.keys if k.key_id == kid), None)
        if key is None:
            raise OAuth2Error("The ID token is signed with a key the issuer does not publish.")
        return dict(
            jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=client_id,
                issuer=expected_issuer(str(config["issuer"]), unverified),
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        )
    except (jwt.PyJWTError, requests.RequestException, ValueError, KeyError) as error:
        raise OAuth2Error(f"Invalid ID token: {error}") from error


def check_issuer_parameter(issuer: str | None, config: Mapping[str, Any]) -> None:
    """Raise :class:`OAuth2Error` unless the callback's RFC 9207 ``iss`` names this provider's
    issuer (any tenant in Microsoft's ``{tenantid}`` template), or is absent and not promised."""
    if issuer is None:
        if config.get("authorization_response_iss_parameter_supported") is True:
            raise OAuth2Error("The authorization response does not name its issuer (RFC 9207).")
        return
    template = re.escape(str(config["issuer"])).replace(re.escape(TENANT_PLACEHOLDER), "[^/]+")
    if not re.fullmatch(template, issuer):
        raise OAuth2Error("The authorization response comes from another issuer (RFC 9207).")


class VerifyingOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    def get_access_token_data(
        self, request: HttpRequest, app: SocialApp, client: Any, pkce_code_verifier: Any = None
    ) -> Any:
        # The code goes to the token endpoint only once the response is known to be this issuer's.
        check_issuer_parameter(request.GET.get("iss"), self.openid_config)
        return super().get_access_token_data(request, app, client, pkce_code_verifier)

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        return verify_id_token(id_token, config=self.openid_config, client_id=app.client_id)
