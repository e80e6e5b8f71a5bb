"""The second-factor sign-in step in allauth's headless API (browser and app clients).

Mounted beside allauth's own endpoints: ``/_allauth/{client}/v1/auth/2fa/sms`` (GET: where the
code went; POST ``{code}``: verify), ``…/auth/2fa/sms/resend`` and ``…/auth/2fa/backup-code``.
A pending login shows the flow ``{"id": "twofold_second_factor", "is_pending": true}``; after
success the answer is allauth's usual authentication response.
"""

from __future__ import annotations

from typing import Any, cast

from allauth.account.internal.stagekit import stash_login
from allauth.headless.base.response import AuthenticationResponse
from allauth.headless.base.views import AuthenticatedAPIView, AuthenticationStageAPIView
from allauth.headless.constants import Client
from allauth.headless.internal.restkit.inputs import Input
from django import forms
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from twofold.api import responses
from twofold.errors import FlowError, TooManyRequests
from twofold.signin import second_factor
from twofold.signin.forms import BackupCodeForm, SmsCodeForm
from twofold.signin.stages import SecondFactorStage
from twofold.users.models import User


class SmsCodeInput(SmsCodeForm, Input):
    pass


class BackupCodeInput(BackupCodeForm, Input):
    pass


def _error(error: FlowError) -> HttpResponse:
    wait = error.retry_after if isinstance(error, TooManyRequests) else None
    return responses.error(error.status, error.code, error.message, error.param, wait)


class _StageView(AuthenticationStageAPIView):
    stage_class = SecondFactorStage

    def challenge(self) -> dict[str, Any]:
        user = self.stage.login.user
        return {
            "masked_phone": second_factor.masked_phone(user),
            "resend_in": second_factor.seconds_until_resend(user, self.stage.state),
            "send_error": self.stage.state.get("send_error"),
        }


class SmsChallengeView(_StageView):
    input_class = {"POST": SmsCodeInput}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return responses.ok(self.challenge())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            second_factor.verify_sms_code(
                request, self.stage.login.user, self.stage.state, self.input.cleaned_data["code"]
            )
        except FlowError as error:
            return _error(error)
        return self.respond_next_stage()


class ResendView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            second_factor.send_code(request, self.stage.login.user, self.stage.state)
        except FlowError as error:
            return _error(error)
        finally:
            stash_login(request, self.stage.login)
        return responses.ok(self.challenge())


class BackupCodeView(_StageView):
    input_class = {"POST": BackupCodeInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            second_factor.verify_backup_code(
                request, self.stage.login.user, self.input.cleaned_data["code"]
            )
        except FlowError as error:
            return _error(error)
        return self.respond_next_stage()


class ReauthenticateInput(Input):
    code = forms.CharField(required=False, max_length=12)


class ReauthenticateView(AuthenticatedAPIView):
    """``POST {}``: text a code to the current number. ``POST {code}``: confirm it (aal2)."""

    input_class = {"POST": ReauthenticateInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)  # AuthenticatedAPIView let only members in
        code = "".join(ch for ch in self.input.cleaned_data.get("code") or "" if ch.isdigit())
        try:
            if code:
                second_factor.reauthenticate(request, user, code)
                return AuthenticationResponse(request)
            second_factor.send_reauthentication_code(request, user)
        except FlowError as error:
            return _error(error)
        return responses.ok({"masked_phone": second_factor.masked_phone(user)}, status=202)


def urlpatterns_for(client: Client) -> list[URLPattern]:
    return [
        path("auth/2fa/reauthenticate", ReauthenticateView.as_api_view(client=client)),
        path("auth/2fa/sms", SmsChallengeView.as_api_view(client=client)),
        path("auth/2fa/sms/resend", ResendView.as_api_view(client=client)),
        path("auth/2fa/backup-code", BackupCodeView.as_api_view(client=client)),
    ]
