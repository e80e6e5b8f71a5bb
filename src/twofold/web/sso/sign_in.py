""" "Sign in with SSO": enter your work email, go to your account's identity provider."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from twofold.errors import FlowError
from twofold.sso import flows, linking, policy, saml
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
    """Where a password sign-in of a member whose account requires SSO ends; with a link ticket,
    the offer to continue to the connection to link."""
    context = {
        "message": policy.SSO_REQUIRED,
        "to_link": linking.offered_connection(request.session),
    }
    return render(request, "sso/required.html", context, status=403)


@login_not_required
@require_http_methods(["POST"])
def continue_to_link(request: HttpRequest) -> HttpResponse:
    """Off to the connection this session's link ticket names (its answer is linked there)."""
    connection = linking.offered_connection(request.session)
    if connection is None:  # expired, used, or never offered
        return redirect("sso_required")
    provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
    response: HttpResponse = provider.redirect(request, AuthProcess.LOGIN)
    return response
