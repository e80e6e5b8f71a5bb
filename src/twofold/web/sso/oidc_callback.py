"""The OpenID Connect callback, routed before allauth's: its own view with the ID token verified
by Twofold (``sso/oidc.py``)."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.http import Http404, HttpRequest, HttpResponse

from twofold.sso.oidc import VerifyingOpenIDConnectAdapter


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect callback, with the ID token verified by Twofold."""
    try:
        view = OAuth2CallbackView.adapter_view(VerifyingOpenIDConnectAdapter(request, provider_id))
        response: HttpResponse = view(request)
    except SocialApp.DoesNotExist as missing:
        raise Http404 from missing
    return response
