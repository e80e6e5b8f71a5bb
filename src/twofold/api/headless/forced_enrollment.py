"""The forced-enrollment sign-in step in allauth's headless API (browser and app clients).

A pending login shows the flow ``{"id": "twofold_two_factor_enrollment", "is_pending": true}``.
Under ``/_allauth/{client}/v1/auth/2fa/enroll``: GET where the enrollment stands; POST ``…/sms``
``{phone, country?}`` texts a code; ``…/sms/resend``; ``…/sms/confirm`` ``{code}`` answers the
backup codes; ``…/backup-codes`` the same set again (until activation); ``…/activate``
``{saved_backup_codes: true}`` and, in the grace period, ``…/postpone`` complete the login with
allauth's usual authentication response. An authenticator app instead: POST ``…/totp`` answers
the key and QR code; ``…/totp/confirm`` ``{code}`` answers the backup codes; then ``…/activate``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import stash_login
from allauth.headless.base.views import AuthenticationStageAPIView
from allauth.headless.constants import Client
from allauth.headless.internal.restkit.inputs import Input
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from twofold.api import responses
from twofold.errors import FlowError
from twofold.factors.forms import ActivateForm
from twofold.factors.sms import flows
from twofold.factors.sms.forms import ConfirmCodeForm, PhoneForm
from twofold.factors.totp.forms import TotpCodeForm
from twofold.signin import forced_enrollment
from twofold.signin.stages import TwoFactorEnrollmentStage
from twofold.sms.numbers import formatted


class PhoneInput(PhoneForm, Input):
    pass


class ConfirmCodeInput(ConfirmCodeForm, Input):
    pass


class ActivateInput(ActivateForm, Input):
    pass


class TotpCodeInput(TotpCodeForm, Input):
    pass


class _StageView(AuthenticationStageAPIView):
    stage_class = TwoFactorEnrollmentStage

    def progress(self) -> dict[str, Any]:
        user = self.stage.login.user
        pending = forced_enrollment.current(user, self.stage.state)
        step = (
            "phone"
            if pending is None
            else "code"
            if pending.verified_at is None
            else "backup_codes"
        )
        app = forced_enrollment.totp_setup(self.request, user, self.stage.state)
        if app is not None:
            step = "backup_codes" if app.confirmed else "totp_code"
        days_left = forced_enrollment.days_left(user, self.stage.state)
        return {
            "method": "totp" if app is not None else "sms",
            "step": step,
            "phone": formatted(pending.phone) if pending else None,
            "resend_in": forced_enrollment.resend_in(user, self.stage.state),
            "default_country": flows.default_country(user),
            "days_left": days_left,
            "may_postpone": days_left > 0,
            "methods": list(forced_enrollment.offered(user)),
        }


class EnrollmentView(_StageView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return responses.ok(self.progress())


class StartView(_StageView):
    input_class = {"POST": PhoneInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        phone = self.input.cleaned_data["phone"]
        try:
            forced_enrollment.start(request, self.stage.login.user, self.stage.state, phone)
        except FlowError as error:
            return responses.flow_error(error)
        stash_login(request, self.stage.login)  # keep the binding with the pending login
        return responses.ok(self.progress(), status=202)


class ResendView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            forced_enrollment.resend(request, self.stage.login.user, self.stage.state)
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok(self.progress(), status=202)


class ConfirmView(_StageView):
    input_class = {"POST": ConfirmCodeInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, state = self.stage.login.user, self.stage.state
        try:
            forced_enrollment.confirm_code(user, state, self.input.cleaned_data["code"])
            if forced_enrollment.completed(user):  # a factor no longer allowed replaced
                return self.respond_next_stage()
            codes = forced_enrollment.show_backup_codes(user, state, request.session)
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"codes": codes})


class TotpStartView(_StageView):
    """POST: the authenticator app instead of SMS: its key and QR code (the same until used)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            setup = forced_enrollment.start_totp(request, self.stage.login.user, self.stage.state)
        except FlowError as error:
            return responses.flow_error(error)
        stash_login(request, self.stage.login)  # keep the method chosen with the pending login
        data = {
            "secret": setup.grouped_secret,
            "otpauth_uri": setup.uri,
            "qr_code_svg": setup.qr_data_uri,
            "confirmed": setup.confirmed,
        }
        return responses.ok(data, status=202)


class TotpConfirmView(_StageView):
    input_class = {"POST": TotpCodeInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, state = self.stage.login.user, self.stage.state
        try:
            forced_enrollment.confirm_totp(request, user, state, self.input.cleaned_data["code"])
            if forced_enrollment.completed(user):  # a factor no longer allowed replaced
                return self.respond_next_stage()
            codes = forced_enrollment.show_backup_codes(user, state, request.session)
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"codes": codes})


class BackupCodesView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            codes = forced_enrollment.show_backup_codes(
                self.stage.login.user, self.stage.state, request.session
            )
        except FlowError as error:
            return responses.flow_error(error)
        return responses.ok({"codes": codes})


class ActivateView(_StageView):
    input_class = {"POST": ActivateInput}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        saved = bool(self.input.cleaned_data["saved_backup_codes"])
        try:
            forced_enrollment.activate(
                request, self.stage.login.user, self.stage.state, saved=saved
            )
        except FlowError as error:
            return responses.flow_error(error)
        return self.respond_next_stage()


class PostponeView(_StageView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            forced_enrollment.postpone(
                self.stage.login.user, self.stage.state, session=request.session
            )
        except FlowError as error:
            return responses.flow_error(error)
        return self.respond_next_stage()


def urlpatterns_for(client: Client) -> list[URLPattern]:
    return [
        path("auth/2fa/enroll", EnrollmentView.as_api_view(client=client)),
        path("auth/2fa/enroll/sms", StartView.as_api_view(client=client)),
        path("auth/2fa/enroll/sms/resend", ResendView.as_api_view(client=client)),
        path("auth/2fa/enroll/sms/confirm", ConfirmView.as_api_view(client=client)),
        path("auth/2fa/enroll/totp", TotpStartView.as_api_view(client=client)),
        path("auth/2fa/enroll/totp/confirm", TotpConfirmView.as_api_view(client=client)),
        path("auth/2fa/enroll/backup-codes", BackupCodesView.as_api_view(client=client)),
        path("auth/2fa/enroll/activate", ActivateView.as_api_view(client=client)),
        path("auth/2fa/enroll/postpone", PostponeView.as_api_view(client=client)),
    ]
