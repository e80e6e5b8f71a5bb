"""``GET /_allauth/{browser,app}/v1/config``: allauth's configuration, with its ``mfa`` part saying
what Twofold serves rather than what ``allauth.mfa`` is set to.

allauth derives ``mfa`` from ``MFA_SUPPORTED_TYPES`` (``["totp"]``: allauth keeps only the
authenticator apps, under Twofold's flows) and ``MFA_PASSKEY_LOGIN_ENABLED``; Twofold's second
factors are its own (``factors/methods.py``) and its passkey sign-in is ``…/auth/passkey``
(``api/headless/webauthn.py``). Mounted ahead of allauth's view by ``api/headless/urls.py``;
the rest of the answer is allauth's.
"""

from __future__ import annotations

import json
from typing import Any

from allauth.headless.base.response import APIResponse
from allauth.headless.base.views import ConfigView
from allauth.headless.constants import Client
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from twofold.factors.methods import BACKUP_CODE, METHODS


def mfa_configuration() -> dict[str, Any]:
    """Every way through the second-factor step, strongest first; a passkey signs in alone."""
    return {"supported_types": [*METHODS, BACKUP_CODE], "passkey_login_enabled": True}


class TwofoldConfigView(ConfigView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)["data"]
        data["mfa"] = mfa_configuration()
        return APIResponse(request, data=data)


def urlpatterns_for(client: Client) -> list[URLPattern]:
    return [path("config", TwofoldConfigView.as_api_view(client=client), name="twofold_config")]
