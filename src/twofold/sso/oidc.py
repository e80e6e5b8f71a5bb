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

OpenID Connect Discovery 1.0 §4.3: "The issuer value returned MUST be identical to the Issuer URL
that was used as the prefix to /.well-known/openid-configuration to retrieve the configuration
information", else the document "MUST NOT be used". allauth uses any document it fetches:
:func:`check_discovery_issuer` compares it with the configured server URL before anything of it
is used (the redirect, the callback, an app's ID token), so a document naming another issuer
never sends anyone to its endpoints nor has its keys trusted. Microsoft's multi-tenant discovery
(``…/organizations/v2.0``) naming ``…/{tenantid}/v2.0`` is the one documented exception.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from twofold.errors import FlowError

NONCE = "twofold_nonce"


class NonceOpenIDConnectProvider(OpenIDConnectProvider):
    def get_oauth2_adapter(self, request: HttpRequest) -> VerifyingOpenIDConnectAdapter:
        """One adapter per provider: its discovery document is fetched and checked once."""
        if getattr(self, "_verifying_adapter", None) is None:
            self._verifying_adapter = VerifyingOpenIDConnectAdapter(request, self.app.provider_id)
        return self._verifying_adapter

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponse:
        try:
            # Nobody is sent to the endpoints of a document naming another issuer (§4.3).
            self.get_oauth2_adapter(request).openid_config  # noqa: B018
        except (OAuth2Error, requests.RequestException) as error:  # an outage: a page, no 500
            state = {"process": process, "next": next_url, "headless": kwargs.get("headless")}
            page: HttpResponse = render_authentication_error(
                request, self, exception=error, extra_context={"state": state}
            )
            return page
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
        raise FlowError(
            gettext("The identity provider's answer was not for this sign-in."), code="nonce"
        )
    issuer = request.GET.get("iss")
    if issuer is not None and issuer != claims.get("iss"):
        raise FlowError(
            gettext("The identity provider's answer came from another issuer."), code="issuer"
        )


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


def discovery_url_prefix(server_url: str) -> str:
    """The issuer a document fetched for ``server_url`` must name: the URL before
    ``/.well-known/`` (allauth appends ``/.well-known/openid-configuration`` when it is absent)."""
    return server_url.split("/.well-known/", 1)[0]


def issuer_names_server(issuer: str, server_url: str) -> bool:
    """``issuer`` is ``server_url`` exactly, or Microsoft's template: ``{tenantid}`` standing for
    one whole path segment of ``server_url`` (``…/organizations/v2.0``), all else identical."""
    if issuer == server_url:
        return True
    theirs, ours = issuer.split("/"), server_url.split("/")
    # [scheme:, "", host, path segments...]: the template stands only for a path segment.
    templated = [i for i, part in enumerate(theirs) if part == TENANT_PLACEHOLDER]
    if len(templated) != 1 or templated[0] < 3 or len(theirs) != len(ours):
        return False
    pairs = enumerate(zip(theirs, ours, strict=True))
    return all(a == b or (i in templated and bool(b)) for i, (a, b) in pairs)


def check_discovery_issuer(config: Mapping[str, Any], server_url: str) -> None:
    """Raise :class:`OAuth2Error` unless the discovery document names the configured server
    URL as its issuer (OpenID Connect Discovery 1.0 §4.3)."""
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or not issuer_names_server(
        issuer, discovery_url_prefix(server_url)
    ):
        raise OAuth2Error(
            "The identity provider's discovery document names another issuer "
            "(OpenID Connect Discovery 1.0, 4.3)."
        )


class VerifyingOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self) -> dict[str, Any]:
        """allauth's discovery document, once its issuer is the configured server URL's (§4.3);
        the operator's ``openid_configuration_overrides`` apply after the check."""
        if not hasattr(self, "_openid_config"):
            provider = self.get_provider()
            server_url = str(provider.app.settings["server_url"])
            with get_adapter().get_requests_session() as session:
                answer = session.get(provider.server_url)
                answer.raise_for_status()
                config = answer.json()
            if not isinstance(config, dict):
                raise OAuth2Error("The identity provider's discovery document is not an object.")
            check_discovery_issuer(config, server_url)
            config.update(provider.app.settings.get("openid_configuration_overrides", {}))
            self._openid_config = config
        return self._openid_config

    def get_access_token_data(
        self, request: HttpRequest, app: SocialApp, client: Any, pkce_code_verifier: Any = None
    ) -> Any:
        # The code goes to the token endpoint only once the response is known to be this issuer's.
        check_issuer_parameter(request.GET.get("iss"), self.openid_config)
        return super().get_access_token_data(request, app, client, pkce_code_verifier)

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict[str, Any]:
        return verify_id_token(id_token, config=self.openid_config, client_id=app.client_id)
