""" "Sign in with SSO": enter your work email, go to your account's identity provider."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from twofold.errors import FlowError
from twofold.sso import flows, policy, saml
from twofold.sso.forms import SsoEmailForm


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in_with_sso(request: HttpRequest) -> HttpResponse:
    form = SsoEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = flows.connection_for_email(form.cleaned_data["email"])
        except FlowError as error:
            form.add_error("email", error.message)
        else:
            provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
            response: HttpResponse = provider.redirect(request, AuthProcess.LOGIN)
            return response
    return render(request, "sso/sign_in.html", {"form": form}, status=400 if form.errors else 200)


@login_not_required
def sso_required(request: HttpRequest) -> HttpResponse:
    """Where a password sign-in of a member whose account requires SSO ends."""
    return render(request, "sso/required.html", {"message": policy.SSO_REQUIRED}, status=403)
