"""Pages of the forced-enrollment sign-in step (/accounts/2fa/enroll/…): thin skins over
``signin/forced_enrollment.py``, with the settings pages' forms."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_stage_required
from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStage
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from twofold.errors import FlowError
from twofold.factors import methods, policy
from twofold.factors.forms import ActivateForm
from twofold.factors.sms import flows
from twofold.factors.sms.forms import ConfirmCodeForm, PhoneForm
from twofold.factors.totp.forms import TotpCodeForm
from twofold.signin import forced_enrollment
from twofold.sms.numbers import formatted
from twofold.web import send_failure

in_enrollment_stage = login_stage_required(
    stage=forced_enrollment.STAGE_KEY, redirect_urlname="account_login"
)
PHONE = "two_factor_enrollment_phone"
CONFIRM = "two_factor_enrollment_confirm"
BACKUP_CODES = "two_factor_enrollment_backup_codes"
APP = "two_factor_enrollment_app"


def _stage(request: HttpRequest) -> LoginStage:
    return request._login_stage  # type: ignore[attr-defined]


def _render(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    stage = _stage(request)
    context.setdefault("days_left", forced_enrollment.days_left(stage.login.user, stage.state))
    context.setdefault("offered", forced_enrollment.offered(stage.login.user))
    context.setdefault("replacing", policy.needs_allowed_factor(stage.login.user))
    return render(request, f"signin/{template}", context)


def _show_error(form: forms.Form, error: FlowError) -> None:
    form.add_error(error.param if error.param in form.fields else None, error.message)


def _replaced(request: HttpRequest, stage: LoginStage) -> HttpResponse:
    """A member replacing a factor the account no longer allows: the allowed one is added."""
    messages.success(
        request, gettext("Your new two-factor method is on. Your backup codes stay valid.")
    )
    return stage.exit()


def _start_again(request: HttpRequest, error: FlowError) -> HttpResponse:
    messages.error(request, error.message)
    return redirect(PHONE)


@in_enrollment_stage
def start(request: HttpRequest) -> HttpResponse:
    """With a grace period left: "Set up now" or "Later". Otherwise straight to the number."""
    stage = _stage(request)
    if not forced_enrollment.days_left(stage.login.user, stage.state):
        return redirect(PHONE)
    return _render(request, "enroll_start.html")


@in_enrollment_stage
def phone(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    user = stage.login.user
    if methods.SMS not in forced_enrollment.offered(user):
        return redirect(APP)  # the account does not allow SMS
    pending = forced_enrollment.current(user, stage.state)
    pending_phone = formatted(pending.phone) if pending else None
    initial = {"country": flows.default_country(user), "phone": pending_phone}
    form = PhoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            forced_enrollment.start(request, user, stage.state, form.cleaned_data["phone"])
        except FlowError as error:
            _show_error(form, error)
        else:
            stash_login(request, stage.login)  # keep the binding with the pending login
            return redirect(CONFIRM)
    return _render(request, "enroll_phone.html", form=form, pending_phone=pending_phone)


@in_enrollment_stage
def confirm(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    user = stage.login.user
    pending = forced_enrollment.current(user, stage.state)
    if pending is None:
        return redirect(PHONE)
    if pending.verified_at is not None:
        return redirect(BACKUP_CODES)
    form = ConfirmCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            forced_enrollment.confirm_code(user, stage.state, form.cleaned_data["code"])
        except FlowError as error:
            if error.code == "enrollment_missing":
                return _start_again(request, error)
            _show_error(form, error)
        else:
            if forced_enrollment.completed(user):
                return _replaced(request, stage)
            return redirect(BACKUP_CODES)
    send_error = send_failure.take(request)
    context = {
        "form": form,
        "phone": formatted(pending.phone),
        "resend_in": forced_enrollment.resend_in(user, stage.state),
        "send_error": send_error,
        "code_waiting": bool(send_error) and forced_enrollment.code_waiting(user, stage.state),
    }
    return _render(request, "enroll_confirm.html", **context)


@in_enrollment_stage
@never_cache  # the page carries the app's secret
def app(request: HttpRequest) -> HttpResponse:
    """An authenticator app instead of SMS: the QR code and key; POST a current code."""
    stage = _stage(request)
    user = stage.login.user
    try:
        setup = forced_enrollment.start_totp(request, user, stage.state)
    except FlowError as error:
        if methods.SMS not in forced_enrollment.offered(user):
            raise PermissionDenied(error.message) from None  # nothing else to offer
        return _start_again(request, error)
    stash_login(request, stage.login)  # keep the method chosen with the pending login
    if setup.confirmed:
        return redirect(BACKUP_CODES)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            forced_enrollment.confirm_totp(request, user, stage.state, form.cleaned_data["code"])
        except FlowError as error:
            _show_error(form, error)
        else:
            if forced_enrollment.completed(user):
                return _replaced(request, stage)
            return redirect(BACKUP_CODES)
    return _render(request, "enroll_app.html", form=form, setup=setup)


@in_enrollment_stage
@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    try:
        forced_enrollment.resend(request, stage.login.user, stage.state)
    except FlowError as error:
        if error.code == "enrollment_missing":
            return _start_again(request, error)
        send_failure.remember(request, error)
    else:
        pending = forced_enrollment.current(stage.login.user, stage.state)
        phone = formatted(pending.phone) if pending else "your phone"
        messages.success(
            request, gettext("A new code is on its way to %(phone)s.") % {"phone": phone}
        )
    return redirect(CONFIRM)


@in_enrollment_stage
def backup_codes(request: HttpRequest) -> HttpResponse:
    """GET shows the enrollment's backup codes (the same set at every visit until activation);
    POST with the tick activates and signs in."""
    stage = _stage(request)
    user = stage.login.user
    if request.method == "POST":
        return _activate(request, stage)
    try:
        shown = forced_enrollment.show_backup_codes(user, stage.state, request.session)
    except FlowError as error:
        if error.code == "phone_not_confirmed":
            return redirect(CONFIRM)
        if error.code == "totp_not_confirmed":
            return redirect(APP)
        return _start_again(request, error)
    return _render(
        request, "enroll_backup_codes.html", codes=shown, form=ActivateForm(), email=user.email
    )


def _activate(request: HttpRequest, stage: LoginStage) -> HttpResponse:
    form = ActivateForm(request.POST)
    saved = form.is_valid() and form.cleaned_data["saved_backup_codes"]
    try:
        forced_enrollment.activate(request, stage.login.user, stage.state, saved=saved)
    except FlowError as error:
        if error.param not in form.fields:
            return _start_again(request, error)
        _show_error(form, error)
        # The page links back to the codes: the same set, pending until activation.
        return _render(request, "enroll_backup_codes.html", codes=None, form=form)
    messages.success(request, gettext("Two-factor authentication is on."))
    return stage.exit()


@in_enrollment_stage
@require_POST
def later(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    try:
        left = forced_enrollment.postpone(stage.login.user, stage.state, session=request.session)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect(PHONE)
    if left:
        messages.info(
            request,
            ngettext(
                "Your account requires two-factor authentication: %(left)s day left to set it up "
                "under Password and Two-Factor Authentication.",
                "Your account requires two-factor authentication: %(left)s days left to set it up "
                "under Password and Two-Factor Authentication.",
                left,
            )
            % {"left": left},
        )
    return stage.exit()
