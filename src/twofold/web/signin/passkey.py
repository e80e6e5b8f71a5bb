"""Pages of security keys and passkeys at sign-in: the second-factor step with a key, and
"Sign in with a passkey" on the login page. The browser's part is ``static/twofold/webauthn.js``
(options from the headless API, the answer posted here in the hidden ``credential`` field)."""

from __future__ import annotations

from allauth.account.stages import LoginStage
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold.errors import FlowError
from twofold.factors.methods import WEBAUTHN
from twofold.factors.policy import remembered_devices_allowed
from twofold.factors.webauthn.forms import CredentialForm
from twofold.signin import passkey, remembered, second_factor
from twofold.signin.forms import RememberDeviceForm


def key_step(request: HttpRequest, stage: LoginStage) -> HttpResponse:
    """The second-factor step when this login asks for a security key or passkey."""
    form = CredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.verify(
                request, stage.login.user, stage.state, WEBAUTHN, form.cleaned_data["credential"]
            )
        except FlowError as error:
            form.add_error(None, error.message)
        else:
            response = stage.exit()
            if RememberDeviceForm(request.POST).wanted():  # as after a code (views._exit)
                remembered.remember(request, stage.login.user, response)
            return response
    elif request.method == "POST":
        form.add_error(None, "Use your security key when your browser asks for it.")
    context = {
        "form": form,
        "other_ways": True,
        "may_remember": remembered_devices_allowed(stage.login.user),
    }
    return render(request, "signin/webauthn.html", context)


@require_POST
def passkey_sign_in(request: HttpRequest) -> HttpResponse:
    """The answer of a passkey, from the login page; then allauth's login stages."""
    form = CredentialForm(request.POST)
    next_url = request.POST.get("next") or None
    if next_url and not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = None  # only paths of this site: an open redirect would help phishing
    if not form.is_valid():
        messages.error(request, gettext("Use your passkey when your browser asks for it."))
        return redirect("account_login")
    try:
        return passkey.sign_in(request, form.cleaned_data["credential"], next_url)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect("account_login")
