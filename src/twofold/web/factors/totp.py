"""Settings pages of the authenticator app: thin skins over ``flows`` (shared with the API)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache

from twofold.errors import FlowError
from twofold.factors.totp import flows
from twofold.factors.totp.forms import TotpCodeForm
from twofold.web.decorators import fresh_to_bind, signed_in_user
from twofold.web.factors import activation
from twofold.web.factors.shared import SETTINGS, factors_changed


@fresh_to_bind  # beside another factor: aal2, as for a new number
@never_cache  # the page carries the secret: no copy in any cache
def enable(request: HttpRequest) -> HttpResponse:
    """The QR code and the key; POST a current code to confirm the app has it."""
    user = signed_in_user(request)
    try:
        setup = flows.start(user, request.session)
    except FlowError as error:
        messages.info(request, error.message)
        return redirect(SETTINGS)
    if setup.confirmed:
        return redirect("totp_backup_codes")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            active = flows.confirm(user, request.session, form.cleaned_data["code"])
        except FlowError as error:
            form.add_error("code", error.message)
        else:
            if active:
                factors_changed(request)
                messages.success(request, gettext("Your authenticator app was added."))
                return redirect(SETTINGS)
            return redirect("totp_backup_codes")
    return render(request, "factors/totp/enable.html", {"setup": setup, "form": form})


BACKUP_CODES = activation.Page(
    flows=flows,
    url="totp_backup_codes",
    cancel_url="totp_cancel",
    if_lost=gettext_lazy(
        "If you lose your phone, sign in with one of these codes instead of a code from your app."
    ),
    back=lambda error: "totp_enable" if error.code == "totp_not_confirmed" else SETTINGS,
    cancelled=gettext_lazy("The authenticator app was not added."),
)

backup_codes, cancel = activation.views(BACKUP_CODES)
