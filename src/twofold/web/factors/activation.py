"""The last pages of a first factor set up in the session (authenticator app, security key): its
backup codes, the activation, abandoning it. One set of pages for both factors, thin skins over
their flows (``factors/activation.py``, shared with the API's ``api/factors/activation.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from twofold.errors import FlowError, StrOrPromise
from twofold.factors.activation import SessionSetup
from twofold.factors.forms import ActivateForm
from twofold.web.decorators import fresh_to_bind, post_only, signed_in_user
from twofold.web.factors.shared import SETTINGS, first_factor_on

TEMPLATE = "factors/first_factor_backup_codes.html"
View = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class Page:
    """What differs between the factors' pages: URL names and what they say."""

    flows: SessionSetup
    url: str  # this page (POST: activate)
    cancel_url: str
    if_lost: StrOrPromise  # "If you lose ..., sign in with one of these codes instead of ..."
    back: Callable[[FlowError], str]  # where to go when no codes can be shown
    cancelled: StrOrPromise  # the message after "Cancel"


def views(page: Page) -> tuple[View, View]:
    """The backup codes page (GET: the codes; POST: activate) and the cancel action."""

    @fresh_to_bind  # shows the codes that replace any others, and activates: as the start
    @never_cache  # the codes are secrets: no copy in any cache, nor in the back button
    def backup_codes(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return _activate(request, page)
        try:
            shown = page.flows.show_backup_codes(signed_in_user(request), request.session)
        except FlowError as error:
            messages.error(request, error.message)
            return redirect(page.back(error))
        return render(request, TEMPLATE, {"codes": shown, "form": ActivateForm(), "page": page})

    @login_required
    @post_only(SETTINGS)
    def cancel(request: HttpRequest) -> HttpResponse:
        page.flows.cancel(signed_in_user(request), request.session)
        messages.info(request, str(page.cancelled))
        return redirect(SETTINGS)

    return backup_codes, cancel


def _activate(request: HttpRequest, page: Page) -> HttpResponse:
    form = ActivateForm(request.POST)
    saved = form.is_valid() and form.cleaned_data["saved_backup_codes"]
    try:
        page.flows.activate(signed_in_user(request), request.session, saved_backup_codes=saved)
    except FlowError as error:
        if error.param not in form.fields:
            messages.error(request, error.message)
            return redirect(SETTINGS)
        form.add_error(error.param, error.message)
        # The page links back to the codes: the same set, pending until activation.
        return render(request, TEMPLATE, {"codes": None, "form": form, "page": page})
    return first_factor_on(request, SETTINGS)
