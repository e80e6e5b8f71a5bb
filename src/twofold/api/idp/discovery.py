"""The provider's discovery document (OpenID Connect Discovery 1.0 §3): django-oauth-toolkit's,
saying only what Twofold does — RS256 only (the toolkit lists HS256 too), PKCE S256 only,
revocation and introspection named (RFC 8414), Twofold's assurance levels and claims, pairwise
subjects and back-channel logout."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from oauth2_provider.views import ConnectDiscoveryInfoView

from twofold.idp.assurance import ACR_VALUES
from twofold.idp.subject import SUBJECT_TYPES
from twofold.idp.validator import ACCOUNT_CLAIM

_ASSURANCE_CLAIMS = ["auth_time", "amr", "acr", "sid", ACCOUNT_CLAIM]


class Discovery(ConnectDiscoveryInfoView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        document = json.loads(super().get(request, *args, **kwargs).content)
        document["id_token_signing_alg_values_supported"] = ["RS256"]
        document["code_challenge_methods_supported"] = ["S256"]
        document["acr_values_supported"] = list(ACR_VALUES)
        document["claims_supported"] = sorted(
            {*document.get("claims_supported", []), *_ASSURANCE_CLAIMS}
        )
        document["subject_types_supported"] = list(SUBJECT_TYPES)
        # OpenID Connect Back-Channel Logout 1.0 section 2.1: logout tokens carry ``sid``.
        document["backchannel_logout_supported"] = True
        document["backchannel_logout_session_supported"] = True
        origin = document["issuer"].removesuffix("/oauth")
        for name, urlname in (
            ("revocation_endpoint", "oauth2_provider:revoke-token"),
            ("introspection_endpoint", "oauth2_provider:introspect"),
        ):
            document[name] = origin + reverse(urlname)
        return JsonResponse(document, headers={"Access-Control-Allow-Origin": "*"})
