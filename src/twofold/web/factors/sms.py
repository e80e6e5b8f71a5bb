"""Settings pages of SMS two-factor authentication: thin skins over ``flows``.

Each page reads its form, calls one flow and shows the result or the flow's message; the rules
(what may change, when, with which limits) live in ``flows`` and are shared with the JSON API.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.core.internal.httpkit import get_client_ip
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from twofold import clock
from twofold.errors import FlowError
from twofold.factors import status as factor_status
from twofold.factors.forms import ActivateForm
from twofold.factors.sms import flows
from twofold.factors.sms.codes import Sender, seconds_until_resend
from twofold.factors.sms.forms import ConfirmCodeForm, PhoneForm
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.sms.numbers import formatted
from twofold.web import send_failure
from twofold.web.decorators import fresh, fresh_to_bind, post_only, signed_in_user
from twofold.web.factors.shared import SETTINGS, factors_changed, first_factor_on

View = Callable[..., HttpResponse]
# Where activation leads back to, when enrollment began elsewhere ("Account & Security").
RETURN_TO = "twofold_two_factor_return_to"
Purpose = PendingSmsEnrollment.Purpose
# Where to go when a flow says an earlier step is missing (its message is shown there).
_STEP_OF_ERROR = {
    "enrollment_missing": SETTINGS,
    "phone_not_confirmed": "two_factor_confirm",
    "backup_codes_missing": "two_factor_backup_codes",
    "two_factor_off": SETTINGS,
}


def _sender(request: HttpRequest) -> Sender:
    return Sender(ip=get_client_ip(request))


def _show_error(form: forms.Form, error: FlowError) -> None:
    form.add_error(error.param if error.param in form.fields else None, error.message)


def _back_to_step(request: HttpRequest, error: FlowError) -> HttpResponse:
    messages.error(request, error.message)
    return redirect(_STEP_OF_ERROR.get(error.code, SETTINGS))


def _nothing_in_progress(request: HttpRequest) -> HttpResponse:
    messages.info(
        request, gettext("There is no two-factor set-up in progress. Start again from here.")
    )
    return redirect(SETTINGS)


# --- Step 1: the number (also a new number for an active factor) ------------------------------


@fresh_to_bind  # beside another factor (an app, a key): aal2
def enable(request: HttpRequest) -> HttpResponse:
    if factor_status.status(signed_in_user(request)).sms:
        return redirect("two_factor_change_number")
    _remember_return_to(request)
    return _phone_step(request, changing=False)


def _remember_return_to(request: HttpRequest) -> None:
    candidate = request.GET.get("next")
    # Only paths of this site: an open redirect would help phishing.
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        request.session[RETURN_TO] = candidate


@fresh_to_bind  # binding a new number needs the current second factor too (aal2)
def change_number(request: HttpRequest) -> HttpResponse:
    if not factor_status.status(signed_in_user(request)).sms:
        return redirect("two_factor_enable")
    return _phone_step(request, changing=True)


def _phone_step(request: HttpRequest, *, changing: bool) -> HttpResponse:
    user = signed_in_user(request)
    enrollment = flows.pending(user)
    pending_phone = formatted(enrollment.phone) if enrollment else None
    initial = {"country": flows.default_country(user), "phone": pending_phone}
    form = PhoneForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            flows.start(user, form.cleaned_data["phone"], sender=_sender(request))
        except FlowError as error:
            _show_error(form, error)
        else:
            return redirect("two_factor_confirm")
    context = {"form": form, "changing": changing, "pending_phone": pending_phone}
    return render(request, "factors/phone.html", context)


# --- Step 2: the code sent to the number -------------------------------------------------------


@fresh_to_bind  # binds the number (a new one, or beside another factor): as the first step
def confirm(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    enrollment = flows.pending(user)
    if enrollment is None:
        return _nothing_in_progress(request)
    if enrollment.verified_at is not None:
        return redirect("two_factor_backup_codes")
    form = ConfirmCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.confirm_code(user, form.cleaned_data["code"])
        except FlowError as error:
            if error.code in _STEP_OF_ERROR:
                return _back_to_step(request, error)
            _show_error(form, error)
        else:
            return _confirmed(request, enrollment)
    send_error = send_failure.take(request)
    context = {
        "form": form,
        "changing": enrollment.purpose == Purpose.CHANGE_NUMBER,
        "phone": formatted(enrollment.phone),
        "resend_in": seconds_until_resend(
            user, enrollment.purpose, clock.now(), phone=enrollment.phone
        ),
        "send_error": send_error,
        "code_waiting": bool(send_error) and flows.code_waiting(enrollment),
    }
    return render(request, "factors/confirm.html", context)


def _confirmed(request: HttpRequest, enrollment: PendingSmsEnrollment) -> HttpResponse:
    if enrollment.purpose == Purpose.CHANGE_NUMBER:
        factors_changed(request)
        messages.success(request, gettext("Your number was changed."))
        return redirect(SETTINGS)
    if flows.pending(signed_in_user(request)) is None:  # added beside another factor: done already
        factors_changed(request)
        messages.success(
            request, gettext("Text messages were added to your two-factor authentication.")
        )
        return redirect(request.session.pop(RETURN_TO, None) or SETTINGS)
    return redirect("two_factor_backup_codes")


@login_required
@post_only("two_factor_confirm")
def resend(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    try:
        flows.resend(user, sender=_sender(request))
    except FlowError as error:
        if error.code in _STEP_OF_ERROR:
            return _back_to_step(request, error)
        send_failure.remember(request, error)
    else:
        enrollment = flows.pending(user)
        phone = formatted(enrollment.phone) if enrollment else "your phone"
        messages.success(
            request, gettext("A new code is on its way to %(phone)s.") % {"phone": phone}
        )
    return redirect("two_factor_confirm")


@login_required
@post_only(SETTINGS)
def cancel(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    enrollment = flows.pending(user)
    flows.cancel(user)
    request.session.pop(RETURN_TO, None)
    if enrollment is not None and enrollment.purpose == Purpose.CHANGE_NUMBER:
        messages.info(request, gettext("Your number was not changed."))
    elif enrollment is not None:
        messages.info(request, gettext("Two-factor authentication was not turned on."))
    return redirect(SETTINGS)


# --- Step 3: backup codes, then activation -----------------------------------------------------


@fresh_to_bind  # shows the codes that replace any others, and activates: as the first step
@never_cache  # the codes are secrets: no copy in any cache, nor in the back button
def backup_codes(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if flows.pending(user) is None:
        return _nothing_in_progress(request)
    if request.method == "POST":
        return _activate(request)
    try:
        shown = flows.show_backup_codes(user)
    except FlowError as error:
        return _back_to_step(request, error)
    context = {"codes": shown, "form": ActivateForm(), "activating": True}
    return render(request, "factors/backup_codes.html", context)


def _activate(request: HttpRequest) -> HttpResponse:
    form = ActivateForm(request.POST)
    saved = form.is_valid() and form.cleaned_data["saved_backup_codes"]
    try:
        flows.activate(signed_in_user(request), saved_backup_codes=saved)
    except FlowError as error:
        if error.param not in form.fields:
            return _back_to_step(request, error)
        _show_error(form, error)
        # The page links back to the codes: the same set, pending until activation.
        context = {"codes": None, "form": form, "activating": True}
        return render(request, "factors/backup_codes.html", context)
    return first_factor_on(request, request.session.pop(RETURN_TO, None) or SETTINGS)


# --- Management of an active factor -------------------------------------------------------------


@fresh
@never_cache
def regenerate_backup_codes(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST replaces every backup code and shows the new ones once."""
    if request.method != "POST":
        return render(request, "factors/regenerate.html")
    try:
        shown = flows.regenerate_backup_codes(signed_in_user(request))
    except FlowError as error:
        return _back_to_step(request, error)
    factors_changed(request)
    return render(request, "factors/backup_codes.html", {"codes": shown, "activating": False})


@fresh
def disable(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST turns two-factor authentication off."""
    if request.method != "POST":
        return render(
            request,
            "factors/disable.html",
            {"status": factor_status.status(signed_in_user(request))},
        )
    try:
        flows.disable(signed_in_user(request))
    except FlowError as error:
        return _back_to_step(request, error)
    factors_changed(request)
    messages.success(
        request, gettext("Two-factor authentication is off. Your backup codes no longer work.")
    )
    return redirect(SETTINGS)
