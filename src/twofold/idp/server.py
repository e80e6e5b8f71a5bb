"""The OAuth 2.0 / OpenID Connect server: oauthlib's endpoints with only what Twofold serves.

oauthlib's pre-configured ``Server`` (the toolkit's default with OIDC on) also answers the
implicit and hybrid response types and the password, client-credentials and device grants; the
toolkit refuses some of them only after the work is done (a password grant checked the member's
password before refusing the grant type: a password oracle for anyone with a client secret).
This server is built from the same endpoints and grant classes, as oauthlib's documentation
builds one, with the code flow (PKCE, OpenID Connect) and refresh tokens only, so everything
else is ``unsupported_response_type`` / ``unsupported_grant_type`` before any check
(ASVS 10.4.4, 10.6.1; RFC 9700 2.1.2, 2.4).
"""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant as OAuth2CodeGrant
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from oauthlib.openid.connect.core.endpoints.userinfo import UserInfoEndpoint
from oauthlib.openid.connect.core.grant_types import AuthorizationCodeGrant, RefreshTokenGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)


class CodeFlowServer(
    AuthorizationEndpoint,
    IntrospectEndpoint,
    TokenEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    UserInfoEndpoint,
):
    def __init__(
        self,
        request_validator: Any,
        token_expires_in: Any = None,
        token_generator: Any = None,
        refresh_token_generator: Any = None,
        **unused: Any,  # the device flow's settings, which this server does not serve
    ) -> None:
        oauth2_code = OAuth2CodeGrant(request_validator)
        oidc_code = AuthorizationCodeGrant(request_validator)
        bearer = BearerToken(
            request_validator, token_generator, token_expires_in, refresh_token_generator
        )
        AuthorizationEndpoint.__init__(
            self,
            default_response_type="code",
            response_types={
                "code": AuthorizationCodeGrantDispatcher(
                    default_grant=oauth2_code, oidc_grant=oidc_code
                )
            },
            default_token_type=bearer,
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types={
                "authorization_code": AuthorizationTokenGrantDispatcher(
                    request_validator, default_grant=oauth2_code, oidc_grant=oidc_code
                ),
                "refresh_token": RefreshTokenGrant(request_validator),
            },
            default_token_type=bearer,
        )
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types={"Bearer": bearer})
        RevocationEndpoint.__init__(self, request_validator)
        IntrospectEndpoint.__init__(self, request_validator)
        UserInfoEndpoint.__init__(self, request_validator)
