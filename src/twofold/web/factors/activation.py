"""The backup codes page of a first factor (authenticator app, security key): a thin skin over
the factor's ``show_backup_codes`` and ``activate`` (``first_factor``, shared with the API)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from twofold.errors import FlowError
from twofold.factors.activation import SessionSetup
from twofold.factors.forms import ActivateForm
from twofold.users.models import User
from twofold.web.factors.sms import SETTINGS, factors_changed

TEMPLATE = "factors/first_factor_backup_codes.html"


@dataclass(frozen=True)
class Page:
    """What differs between the factors' pages: URL names and the sentence on losing it."""

    flows: SessionSetup
    url: str  # this page (POST: activate)
    cancel_url: str
    if_lost: str  # "If you lose ..., sign in with one of these codes instead of ..."
    back: Callable[[FlowError], str]  # where to go when no codes can be shown


def backup_codes(request: HttpRequest, page: Page) -> HttpResponse:
    """GET: a new set of backup codes (shown once); POST: activate."""
    if request.method == "POST":
        return _activate(request, page)
    try:
        shown = page.flows.show_backup_codes(cast(User, request.user), request.session)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect(page.back(error))
    return render(request, TEMPLATE, {"codes": shown, "form": ActivateForm(), "page": page})


def _activate(request: HttpRequest, page: Page) -> HttpResponse:
    form = ActivateForm(request.POST)
    saved = form.is_valid() and form.cleaned_data["saved_backup_codes"]
    try:
        page.flows.activate(cast(User, request.user), request.session, saved_backup_codes=saved)
    except FlowError as error:
        if error.param not in form.fields:
            messages.error(request, error.message)
            return redirect(SETTINGS)
        form.add_error(error.param, error.message)
        # The codes were shown once and are not shown again: the same set stays pending.
        return render(request, TEMPLATE, {"codes": None, "form": form, "page": page})
    factors_changed(request)
    messages.success(request, "Two-factor authentication is on.")
    return redirect(SETTINGS)
