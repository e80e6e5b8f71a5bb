"""What every factor's settings pages share: where they lead back to, and what follows a change."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from twofold.sessions import member_sessions
from twofold.web import account
from twofold.web.decorators import signed_in_user

# "Password and Two-Factor Authentication": where the factor pages lead back to.
SETTINGS = "security_settings"


def factors_changed(request: HttpRequest) -> None:
    """Offer to sign out the member's other sessions, on the settings page (ASVS 7.4.3)."""
    member_sessions.offer_to_end_other_sessions(signed_in_user(request), request.session)


def first_factor_on(request: HttpRequest, default: str) -> HttpResponse:
    """After a first factor's activation: "Account & Security" with the mandatory 2FA saved,
    when the administrator had asked for it before she had 2FA (``account.apply_kept_policy``);
    otherwise ``default``."""
    factors_changed(request)
    messages.success(request, gettext("Two-factor authentication is on."))
    if account.apply_kept_policy(request):
        return redirect("account_settings")
    return redirect(default)
