""" "Remembered devices" on the security settings page: thin views over ``signin.remembered``.

Forgetting needs no re-authentication: it only ever takes a shortcut away. Every action is a
POST with Django's CSRF check; a GET of an action's address shows the settings page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.signin import remembered
from twofold.web.decorators import post_only, signed_in_user
from twofold.web.factors.shared import SETTINGS


@login_required
@post_only(SETTINGS)
def forget(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        remembered.forget(signed_in_user(request), pk)
    except FlowError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, gettext("The device was forgotten: it asks for your second factor again.")
        )
    return redirect(SETTINGS)


@login_required
@post_only(SETTINGS)
def forget_all(request: HttpRequest) -> HttpResponse:
    forgotten = remembered.forget_all(signed_in_user(request))
    if forgotten:
        devices = "1 device was" if forgotten == 1 else f"{forgotten} devices were"
        messages.success(
            request,
            gettext("%(devices)s forgotten: each asks for your second factor again.")
            % {"devices": devices},
        )
    else:
        messages.info(request, gettext("No device was remembered."))
    return redirect(SETTINGS)
