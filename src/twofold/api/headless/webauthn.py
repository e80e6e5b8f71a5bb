"""Security keys and passkeys at sign-in, in allauth's headless API (browser and app clients).

``…/auth/2fa/webauthn``: GET the options of ``navigator.credentials.get()`` for this login's
second factor; POST ``{credential}`` (the ``PublicKeyCredential`` as JSON) to verify it.
``…/auth/passkey``: GET the options of a passkey sign-in; POST ``{credential}`` to sign in (two
factors at once; then allauth's usual authentication response, or the next login stage).
Mounted by ``api/headless/urls.py``; the flows are ``signin/second_factor.py`` and
``signin/passkey.py``.
"""

from __future__ import annotations

from typing import Any, cast

from allauth.headless.base.response import AuthenticationResponse
from allauth.headless.base.views import APIView, AuthenticatedAPIView
from allauth.headless.constants import Client
from allauth.headless.internal.restkit.inputs import Input
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from twofold.api import responses
from twofold.api.headless.second_factor import _StageView
from twofold.errors import FlowError
from twofold.factors.methods import WEBAUTHN
from twofold.factors.webauthn.forms import CredentialForm
from twofold.signin import passkey, remembered, second_factor
from twofold.signin.forms import RememberDeviceForm
from twofold.users.models import User


class CredentialInput(CredentialForm, Input):
    pass


class SecondFactorInput(CredentialForm, RememberDeviceForm, Input):
    """``{credential, remember_device?}``: "remember this device", as with a code."""


class SecondFactorView(_StageView):
    input_class = {"POST": SecondFactorInput}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            options = second_factor.options(
                request, self.stage.login.user, self.stage.state, WEBAUTHN
            )
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"request_options": options})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, data = self.stage.login.user, self.input.cleaned_data
        try:
            second_factor.verify(request, user, self.stage.state, WEBAUTHN, data["credential"])
        except FlowError as error:
            return responses.flow_error(error)
        response = self.respond_next_stage()
        if data["remember_device"]:
            remembered.remember(request, user, response)  # None when the account turned it off
        return response


class ReauthenticateView(AuthenticatedAPIView):
    """Confirm it is you (aal2) with a security key: GET the options, POST ``{credential}``."""

    input_class = {"POST": CredentialInput}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)  # AuthenticatedAPIView let only members in
        try:
            options = second_factor.open_reauthentication(request, user, WEBAUTHN)
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"request_options": options})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)
        try:
            second_factor.reauthenticate(
                request, user, WEBAUTHN, self.input.cleaned_data["credential"]
            )
        except FlowError as error:
            return responses.flow_error(error)
        return AuthenticationResponse(request)


class PasskeyView(APIView):
    input_class = {"POST": CredentialInput}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return responses.ok({"request_options": passkey.options(request)})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            passkey.sign_in(request, self.input.cleaned_data["credential"])
        except FlowError as error:
            return responses.flow_error(error)
        return AuthenticationResponse(request)


def urlpatterns_for(client: Client) -> list[URLPattern]:
    return [
        path("auth/2fa/webauthn", SecondFactorView.as_api_view(client=client)),
        path("auth/passkey", PasskeyView.as_api_view(client=client)),
        path("auth/2fa/reauthenticate/webauthn", ReauthenticateView.as_api_view(client=client)),
    ]
