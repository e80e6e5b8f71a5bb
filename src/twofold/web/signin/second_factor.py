"""Pages of the second-factor sign-in step: the code of the factor in use (authenticator app or
SMS), resend, "try another way", backup code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from allauth.account.internal.decorators import login_stage_required
from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStage
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold.errors import FlowError
from twofold.factors import member_factors
from twofold.factors.backup_codes.flows import FEW_LEFT
from twofold.factors.challenges import challenge
from twofold.factors.methods import BACKUP_CODE, LABELS, SMS, TOTP, WEBAUTHN
from twofold.factors.policy import remembered_devices_allowed
from twofold.factors.webauthn.forms import CredentialForm
from twofold.signin import remembered, second_factor
from twofold.signin.forms import (
    BackupCodeForm,
    ChooseMethodForm,
    RememberDeviceForm,
    SmsCodeForm,
    TotpCodeForm,
)
from twofold.users.models import User
from twofold.web import send_failure
from twofold.web.signin import passkey as webauthn_views

View = Callable[[HttpRequest], HttpResponse]


def in_second_factor_stage(view: View) -> View:
    """A page of the pending login's second-factor step, while the step still applies."""

    @login_stage_required(stage=second_factor.STAGE_KEY, redirect_urlname="account_login")
    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        stage = _stage(request)
        # The member's factors are read once for this request: the step only reads them.
        with member_factors.read_once(stage.login.user):
            if not second_factor.applies(stage.login.user):
                # The factor was removed meanwhile (an administrator's reset): allauth goes on
                # with the next stage, which applies the account's policy.
                return stage.exit()
            return view(request)

    return wrapped


def _stage(request: HttpRequest) -> LoginStage:
    return request._login_stage  # type: ignore[attr-defined]


def _exit(request: HttpRequest, stage: LoginStage) -> HttpResponse:
    """The second factor was right: on with the login, remembering this browser when asked."""
    response = stage.exit()
    # Not while a factor no longer allowed is replaced: the next step adds one.
    if RememberDeviceForm(request.POST).wanted() and _may_remember(stage.login.user):
        remembered.remember(request, stage.login.user, response)
    return response


def _may_remember(user: User) -> bool:
    return remembered_devices_allowed(user) and not second_factor.replacing(user)


def _context(request: HttpRequest, stage: LoginStage, **extra: Any) -> dict[str, Any]:
    user = stage.login.user
    send_error = send_failure.take(request) or stage.state.get("send_error")
    return {
        "may_remember": _may_remember(user),
        "other_ways": len(second_factor.accepted_methods(user)) > 1,
        "masked_phone": second_factor.masked_phone(user),
        "resend_in": second_factor.seconds_until_resend(request, user, stage.state),
        "send_error": send_error,
        # Only read when the send failed: whether an earlier code still works.
        "code_waiting": bool(send_error) and second_factor.code_waiting(request, user, stage.state),
        **extra,
    }


# The page of each method that takes a typed code: its template and its input.
_CODE_PAGES: dict[str, tuple[str, type[forms.Form]]] = {
    SMS: ("signin/sms_code.html", SmsCodeForm),
    TOTP: ("signin/totp_code.html", TotpCodeForm),
}


@in_second_factor_stage
def sms_code(request: HttpRequest) -> HttpResponse:
    """The code of the factor this login asks for: the preferred one, or the one chosen."""
    stage = _stage(request)
    current = second_factor.method(stage.login.user, stage.state)
    if current is None:  # no factor the account still allows: a backup code, then a new one
        return redirect("second_factor_backup_code")
    if current not in _CODE_PAGES:  # a security key answers through the browser
        return webauthn_views.key_step(request, stage)
    template, form_class = _CODE_PAGES[current]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.verify(
                request, stage.login.user, stage.state, current, form.cleaned_data["code"]
            )
        except FlowError as error:
            form.add_error("code", error.message)
        else:
            return _exit(request, stage)
    return render(request, template, _context(request, stage, form=form))


@in_second_factor_stage
def other_ways(request: HttpRequest) -> HttpResponse:
    """ "Try another way": the member's other factors, and backup codes. POST picks one."""
    stage = _stage(request)
    user = stage.login.user
    form = ChooseMethodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.choose(request, user, stage.state, form.cleaned_data["method"])
        except FlowError as error:
            messages.error(request, error.message)
        stash_login(request, stage.login)  # keep the method chosen
        return redirect("second_factor")
    current = second_factor.method(user, stage.state)
    others = [(m, LABELS[m]) for m in second_factor.accepted_methods(user) if m != current]
    context = {"others": others, "masked_phone": second_factor.masked_phone(user)}
    return render(request, "signin/other_ways.html", context)


@in_second_factor_stage
@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    try:
        current = second_factor.method(stage.login.user, stage.state) or SMS
        second_factor.resend(request, stage.login.user, stage.state, current)
    except FlowError as error:
        if challenge(current).delivered:  # the code page says it, with what still works
            send_failure.remember(request, error)
        else:
            messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("A new code is on its way to %(masked_phone)s.")
            % {"masked_phone": second_factor.masked_phone(stage.login.user)},
        )
    stash_login(request, stage.login)  # keep the cleared send error
    return redirect("second_factor")


@in_second_factor_stage
def backup_code(request: HttpRequest) -> HttpResponse:
    stage = _stage(request)
    form = BackupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            verified = second_factor.verify(
                request, stage.login.user, stage.state, BACKUP_CODE, form.cleaned_data["code"]
            )
        except FlowError as error:
            form.add_error("code", error.message)
        else:
            left = verified.backup_codes_left or 0
            if left <= FEW_LEFT:
                messages.warning(
                    request,
                    gettext(
                        "You used a backup code; %(left)s left. "
                        "Create new ones in Password and Two-Factor Authentication."
                    )
                    % {"left": left},
                )
            return _exit(request, stage)
    user = stage.login.user
    context = {
        "form": form,
        "may_remember": _may_remember(user),
        "no_longer_allowed": second_factor.labels_no_longer_allowed(user),
        "replacing": second_factor.replacing(user),
    }
    return render(request, "signin/backup_code.html", context)


@login_required
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm it is you with your second factor (before a new number): a code texted to your
    current number, from your authenticator app, a security key, or a backup code."""
    user = cast(User, request.user)  # login_required let only members in
    with member_factors.read_once(user):  # confirming it is you changes no factor
        return _reauthenticate(request, user)


# The input of each way to re-authenticate, and the field that carries the answer.
_REAUTHENTICATION_FORMS: dict[str, tuple[type[forms.Form], str]] = {
    WEBAUTHN: (CredentialForm, "credential"),
    TOTP: (TotpCodeForm, "code"),
    SMS: (SmsCodeForm, "code"),
    BACKUP_CODE: (BackupCodeForm, "code"),
}


def _reauthenticate(request: HttpRequest, user: User) -> HttpResponse:
    next_url = _safe_next(request)
    chosen = request.GET.get("method") or request.POST.get("method")
    method = second_factor.reauthentication_method(user, chosen)
    if method is None:  # no second factor: nothing to confirm with
        return redirect(next_url)
    context: dict[str, Any] = {
        "next": next_url,
        "method": method,
        "others": [
            (m, LABELS.get(m, "A backup code"))
            for m in second_factor.reauthentication_methods(user)
            if m != method
        ],
        "masked_phone": second_factor.masked_phone(user),
    }
    if challenge(method).delivered:
        return _reauthenticate_with_delivered_code(request, user, method, context)
    form_class, field = _REAUTHENTICATION_FORMS[method]
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.reauthenticate(request, user, method, form.cleaned_data[field])
        except FlowError as error:
            form.add_error(field if field == "code" else None, error.message)
        else:
            return redirect(next_url)
    elif request.method == "POST" and field == "credential":
        form.add_error(None, "Use your security key when your browser asks for it.")
    return render(request, "signin/reauthenticate.html", {**context, "form": form})


def _reauthenticate_with_delivered_code(
    request: HttpRequest, user: User, method: str, context: dict[str, Any]
) -> HttpResponse:
    """A texted code: sent when the member presses "Send code" (a POST), then typed.

    Opening the page texts nothing (ASVS 3.5.3): a GET is what a link or an image on another
    site can make a member's browser send, and each text buzzes their phone and costs money.
    """
    form = SmsCodeForm(request.POST or None)
    send_error = None
    if request.method == "POST" and "resend" in request.POST:
        form = SmsCodeForm()
        send_error = _send_reauthentication_code(request, user, method)
    elif request.method == "POST" and form.is_valid():
        try:
            second_factor.reauthenticate(request, user, method, form.cleaned_data["code"])
        except FlowError as error:
            form.add_error("code", error.message)
        else:
            return redirect(context["next"])
    context = {
        **context,
        "form": form,
        # The page says what happened to the code, not what was hoped for.
        "code_sent": second_factor.reauthentication_waiting(request, user, method),
        "send_error": send_error,
    }
    return render(request, "signin/reauthenticate.html", context)


def _send_reauthentication_code(request: HttpRequest, user: User, method: str) -> str | None:
    """Text a new code; return why it was not sent, if it was not."""
    try:
        second_factor.open_reauthentication(request, user, method, again=True)
    except FlowError as error:
        return error.message
    return None


def _safe_next(request: HttpRequest) -> str:
    candidate = request.GET.get("next") or request.POST.get("next") or ""
    # Only paths of this site: an open redirect would help phishing.
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return reverse("security_settings")
