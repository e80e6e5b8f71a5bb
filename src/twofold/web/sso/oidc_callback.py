"""The OpenID Connect callback, routed before allauth's: its own view with the discovery document
and the ID token verified by Twofold (``sso/oidc.py``)."""

from __future__ import annotations

import requests
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.http import Http404, HttpRequest, HttpResponse

from twofold.sso.oidc import VerifyingOpenIDConnectAdapter


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect callback, with the discovery document and the ID token verified
    by Twofold."""
    adapter = VerifyingOpenIDConnectAdapter(request, provider_id)
    try:
        provider = adapter.get_provider()
    except SocialApp.DoesNotExist as missing:
        raise Http404 from missing
    try:
        # Before the code goes anywhere: the document names the configured issuer (Discovery
        # §4.3), and an unreachable one is a refusal page, never a 500.
        adapter.openid_config  # noqa: B018
    except (OAuth2Error, requests.RequestException) as error:
        state_id = request.GET.get("state")  # used up: an API client's browser goes to its app
        page: HttpResponse = render_authentication_error(
            request, provider, exception=error, extra_context={"state_id": state_id}
        )
        return page
    view = OAuth2CallbackView.adapter_view(adapter)
    response: HttpResponse = view(request)
    return response
