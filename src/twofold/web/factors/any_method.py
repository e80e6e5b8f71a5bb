"""Settings pages over all of a member's factors: the preferred one, removing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.factors import methods, preference, removal
from twofold.factors import status as factor_status
from twofold.factors.forms import PreferredForm
from twofold.web.decorators import fresh, post_only, signed_in_user
from twofold.web.factors.shared import SETTINGS, factors_changed


@login_required
@post_only(SETTINGS)
def preferred(request: HttpRequest) -> HttpResponse:
    form = PreferredForm(request.POST)
    try:
        if not form.is_valid():
            raise FlowError(gettext("Choose one of the two-factor methods you have set up."))
        chosen = preference.set_preferred(signed_in_user(request), form.cleaned_data["method"])
    except FlowError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("%(chosen)s will be asked for first.") % {"chosen": methods.LABELS[chosen]},
        )
    return redirect(SETTINGS)


@fresh
def remove(request: HttpRequest, method: str) -> HttpResponse:
    """GET asks for confirmation; POST removes the factor (the last one: 2FA off)."""
    if method not in methods.METHODS:
        raise Http404
    user = signed_in_user(request)
    status = factor_status.status(user)
    if request.method != "POST":
        context = {"status": status, "method": method, "label": methods.LABELS[method]}
        return render(request, "factors/remove.html", context)
    try:
        removal.remove_factor(user, method)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect(SETTINGS)
    factors_changed(request)
    if status.methods == (method,):
        messages.success(
            request, gettext("Two-factor authentication is off. Your backup codes no longer work.")
        )
    else:
        messages.success(
            request, gettext("%(method)s was removed.") % {"method": methods.LABELS[method]}
        )
    return redirect(SETTINGS)
