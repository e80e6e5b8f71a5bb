"""Settings pages of security keys and passkeys: thin skins over ``flows`` (shared with the API).

The browser's part (``navigator.credentials.create()``) is ``static/twofold/webauthn.js``: it
fetches the options from the JSON API (``POST /api/v1/two-factor/webauthn``) and posts the
answer here in the form's hidden ``credential`` field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy

from twofold.errors import FlowError
from twofold.factors.webauthn import flows
from twofold.factors.webauthn.forms import BeginForm, NameForm, RegisterForm
from twofold.web.decorators import binding_confirmation_url, fresh, post_only, signed_in_user
from twofold.web.factors import activation
from twofold.web.factors.shared import SETTINGS, factors_changed


@fresh
def keys(request: HttpRequest) -> HttpResponse:
    """The member's keys (rename, remove) and the form to add one; POST: the browser's answer."""
    user = signed_in_user(request)
    confirm_url = binding_confirmation_url(request)
    if request.method == "POST" and confirm_url:
        return redirect(confirm_url)  # the answer binds a key beside another factor: aal2
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rp = flows.relying_party(request.get_host())
        data = form.cleaned_data
        try:
            created = flows.complete_registration(
                user, request.session, rp, data["name"], data["credential"]
            )
        except FlowError as error:
            form.add_error(None, error.message)
        else:
            if created is None:
                return redirect("webauthn_backup_codes")
            factors_changed(request)
            messages.success(
                request, gettext("Your key “%(name)s” was added.") % {"name": created.data["name"]}
            )
            return redirect("webauthn_keys")
    elif request.method == "POST":
        form.add_error(None, "Name the key, then follow your browser's prompt.")
    context = {
        "keys": flows.keys(user),
        "form": form,
        "begin": BeginForm(),
        # Adding a key beside another factor needs that factor too (the API refuses otherwise).
        "confirm_url": confirm_url,
    }
    return render(request, "factors/webauthn/keys.html", context)


@login_required
@post_only("webauthn_keys")
def rename(request: HttpRequest, key_id: int) -> HttpResponse:
    form = NameForm(request.POST)
    try:
        if not form.is_valid():
            raise FlowError(gettext("Give the key a name (at most 60 characters)."))
        flows.rename(signed_in_user(request), key_id, form.cleaned_data["name"])
    except FlowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("The key was renamed."))
    return redirect("webauthn_keys")


@fresh
@post_only("webauthn_keys")
def remove(request: HttpRequest, key_id: int) -> HttpResponse:
    try:
        flows.remove(signed_in_user(request), key_id)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect("webauthn_keys")
    factors_changed(request)
    messages.success(request, gettext("The key was removed."))
    return redirect("webauthn_keys" if flows.keys(signed_in_user(request)) else SETTINGS)


BACKUP_CODES = activation.Page(
    flows=flows,
    url="webauthn_backup_codes",
    cancel_url="webauthn_cancel",
    if_lost=gettext_lazy(
        "If you lose your key, sign in with one of these codes instead of your security key."
    ),
    back=lambda error: "webauthn_keys",
    cancelled=gettext_lazy("The key was not added."),
)

backup_codes, cancel = activation.views(BACKUP_CODES)
