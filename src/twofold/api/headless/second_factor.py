"""The second-factor sign-in step in allauth's headless API (browser and app clients).

Mounted beside allauth's own endpoints: ``/_allauth/{client}/v1/auth/2fa/verify`` (GET: the
factor asked for and the member's others; POST ``{method, code}``: verify an authenticator-app,
SMS or backup code), ``…/auth/2fa/method`` (POST ``{method}``: "try another way"),
``…/auth/2fa/sms`` (GET: where the code went; POST ``{code}``: verify), ``…/auth/2fa/sms/resend``
and ``…/auth/2fa/backup-code``.
A pending login shows the flow ``{"id": "twofold_second_factor", "is_pending": true}``; after
success the answer is allauth's usual authentication response.
"""

from __future__ import annotations

from typing import Any, cast

from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStageController
from allauth.headless.base.response import AuthenticationResponse, UnauthorizedResponse
from allauth.headless.base.views import AuthenticatedAPIView, AuthenticationStageAPIView
from allauth.headless.constants import Client
from allauth.headless.internal.restkit.inputs import Input
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext

from twofold.api import responses
from twofold.api.headless import forced_enrollment
from twofold.errors import Conflict, FlowError
from twofold.factors import member_factors
from twofold.factors.methods import BACKUP_CODE, SMS
from twofold.signin import remembered, second_factor
from twofold.signin.forms import (
    BackupCodeForm,
    ChooseMethodForm,
    ReauthenticateForm,
    SmsCodeForm,
    VerifyForm,
)
from twofold.signin.stages import SecondFactorStage
from twofold.users.models import User


class SmsCodeInput(SmsCodeForm, Input):
    pass


class BackupCodeInput(BackupCodeForm, Input):
    pass


class ChooseMethodInput(ChooseMethodForm, Input):
    pass


class VerifyInput(VerifyForm, Input):
    pass


class _StageView(AuthenticationStageAPIView):
    stage_class = SecondFactorStage

    def handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # allauth's ``handle`` enters the stage as here, then ours would read the login again.
        stage = LoginStageController.enter(request, self.stage_class.key)
        if stage is None:
            return UnauthorizedResponse(request)
        self.stage = stage
        user = stage.login.user
        if user is None:
            return self._handle(request, *args, **kwargs)
        # The member's factors are read once for this request: the step only reads them.
        with member_factors.read_once(user):
            if not second_factor.applies(user):
                # The factor was removed meanwhile (an administrator's reset): allauth goes on
                # with the next stage, which applies the account's policy.
                return self.respond_next_stage()
            return self._handle(request, *args, **kwargs)

    def _handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The input read and the method run: what allauth's ``handle`` does after entering."""
        return cast(
            HttpResponse, super(AuthenticationStageAPIView, self).handle(request, *args, **kwargs)
        )

    def challenge(self) -> dict[str, Any]:
        user = self.stage.login.user
        return {
            "method": second_factor.method(user, self.stage.state),
            "methods": [*second_factor.accepted_methods(user), BACKUP_CODE],
            "masked_phone": second_factor.masked_phone(user),
            "resend_in": second_factor.seconds_until_resend(self.request, user, self.stage.state),
            "send_error": self.stage.state.get("send_error"),
        }


class _CodeView(_StageView):
    """POST ``{code}``: verify a code of ``method``."""

    method: str

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, state = self.stage.login.user, self.stage.state
        try:
            second_factor.verify(request, user, state, self.method, self.input.cleaned_data["code"])
        except FlowError as error:
            return responses.flow_error(error)
        return self.respond_next_stage()


class SmsChallengeView(_CodeView):
    """GET: the challenge (where the code went). POST ``{code}``: verify it."""

    input_class = {"POST": SmsCodeInput}
    method = SMS

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return responses.ok(self.challenge())


class VerifyView(_StageView):
    """GET: the factor this login asks for, and every way the member has.
    POST ``{method, code}``: verify."""

    input_class = {"POST": VerifyInput}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return responses.ok(self.challenge())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, data = self.stage.login.user, self.input.cleaned_data
        try:
            second_factor.verify(request, user, self.stage.state, data["method"], data["code"])
        except FlowError as error:
            return responses.flow_error(error)
        response = self.respond_next_stage()
        if data["remember_device"]:
            remembered.remember(request, user, response)
        return response


class ChooseMethodView(_StageView):
    """POST ``{method}``: "try another way"; ``sms`` texts a code (cooldown and limits apply)."""

    input_class = {"POST": ChooseMethodInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            second_factor.choose(
                request, self.stage.login.user, self.stage.state, self.input.cleaned_data["method"]
            )
        except FlowError as error:
            return responses.flow_error(error)
        finally:
            stash_login(request, self.stage.login)
        return responses.ok(self.challenge())


class ResendView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            second_factor.resend(request, self.stage.login.user, self.stage.state, SMS)
        except FlowError as error:
            return responses.flow_error(error)
        finally:
            stash_login(request, self.stage.login)
        return responses.ok(self.challenge())


class BackupCodeView(_CodeView):
    input_class = {"POST": BackupCodeInput}
    method = BACKUP_CODE


class ReauthenticateInput(ReauthenticateForm, Input):
    pass


class ReauthenticateView(AuthenticatedAPIView):
    """GET: the ways to confirm it is you. ``POST {}``: text a code to the current number.
    ``POST {method?, code}``: confirm it (aal2) with a texted, app or backup code; a security
    key: ``…/auth/2fa/reauthenticate/webauthn``."""

    input_class = {"POST": ReauthenticateInput}

    def handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Only members reach here (``dispatch``); confirming it is you changes no factor.
        with member_factors.read_once(cast(User, request.user)):
            return cast(HttpResponse, super().handle(request, *args, **kwargs))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)  # AuthenticatedAPIView let only members in
        return responses.ok(
            {
                "method": second_factor.reauthentication_method(user),
                "methods": second_factor.reauthentication_methods(user),
                "masked_phone": second_factor.masked_phone(user),
            }
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast(User, request.user)  # AuthenticatedAPIView let only members in
        data = self.input.cleaned_data
        # No method: the preferred factor, as on the page.
        method = data["method"] or second_factor.reauthentication_method(user)
        try:
            if method is None:
                raise Conflict(
                    gettext("Two-factor authentication is off for this account."),
                    code="two_factor_off",
                )
            if data["code"]:
                second_factor.reauthenticate(request, user, method, data["code"])
                return AuthenticationResponse(request)
            second_factor.send_reauthentication_code(request, user, method)
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"masked_phone": second_factor.masked_phone(user)}, status=202)


def urlpatterns_for(client: Client) -> list[URLPattern]:
    return [
        *forced_enrollment.urlpatterns_for(client),
        path("auth/2fa/reauthenticate", ReauthenticateView.as_api_view(client=client)),
        path("auth/2fa/verify", VerifyView.as_api_view(client=client)),
        path("auth/2fa/method", ChooseMethodView.as_api_view(client=client)),
        path("auth/2fa/sms", SmsChallengeView.as_api_view(client=client)),
        path("auth/2fa/sms/resend", ResendView.as_api_view(client=client)),
        path("auth/2fa/backup-code", BackupCodeView.as_api_view(client=client)),
    ]
