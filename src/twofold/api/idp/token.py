"""The token endpoint: django-oauth-toolkit's, without its shortcut for the device flow.

The toolkit answers ``grant_type=urn:ietf:params:oauth:grant-type:device_code`` itself, before
oauthlib (a 404 ``device_not_found``, or a 500 without ``device_code``). Twofold serves no device
flow (idp/server.py): every request goes to oauthlib, which answers ``unsupported_grant_type``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from oauth2_provider.views import TokenView


class Token(TokenView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.authorization_flow_token_response(request)
