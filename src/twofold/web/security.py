"""The member's "Password and Two-Factor Authentication" page: their factors, remembered
browsers, recent security events, linked identity providers."""

from __future__ import annotations

from allauth.socialaccount.providers.base.constants import AuthProcess
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twofold.audit import flows as audit_flows
from twofold.errors import NotFound
from twofold.factors import methods
from twofold.factors import status as factor_status
from twofold.factors.policy import allowed_methods_for
from twofold.factors.sms import flows as sms_flows
from twofold.factors.totp import flows as totp_flows
from twofold.sessions import member_sessions as sessions
from twofold.signin import remembered
from twofold.sms.numbers import formatted
from twofold.sso import flows as sso_flows
from twofold.sso import linking, saml
from twofold.users.models import User
from twofold.web.decorators import fresh, signed_in_user


@login_required
def security_settings(request: HttpRequest) -> HttpResponse:
    """ "Password and Two-Factor Authentication"."""
    user: User = request.user  # type: ignore[assignment]
    enrollment = sms_flows.pending(user)
    status = factor_status.status(user)
    context = {
        "two_factor": status,
        "totp": totp_flows.authenticator(user),
        "factor_choices": [(m, methods.LABELS[m]) for m in status.methods],
        "method_rows": method_rows(status, allowed_methods_for(user)),
        "allowed_methods": allowed_methods_for(user),  # the account's method policy
        "remembered_devices": [
            (device, remembered.is_current(request, device)) for device in remembered.listed(user)
        ],
        "pending": enrollment,
        "pending_phone": formatted(enrollment.phone) if enrollment else None,
        "security_events": audit_flows.own_recent_events(user),
        "identity_providers": sso_flows.identity_providers(user),
        "saml_providers": linking.saml_identity_providers(user),
        "offer": sessions.pending_offer(user, request.session),  # ASVS 7.4.3
    }
    return render(request, "twofold/security_settings.html", context)


def method_rows(status: factor_status.Status, allowed: tuple[str, ...]) -> list[dict[str, object]]:
    """Every method the member has or may set up, strongest first, with whether it is on and
    whether it can be removed (not the last one: "Turn off" says what that means)."""
    return [
        {
            "method": method,
            "label": methods.LABELS[method],
            "on": method in status.methods,
            "removable": method in status.methods and len(status.methods) > 1,
        }
        for method in methods.METHODS
        if method in status.methods or method in allowed
    ]


@fresh
@require_POST
def link_saml_connection(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Link <connection>": off to the account's identity provider, whose answer allauth's
    ``connect`` links to the member (the adapter checks the account and the email)."""
    try:
        connection = linking.linkable_connection(signed_in_user(request), pk)
    except NotFound as error:
        raise Http404(error.message) from None
    provider = saml.TwofoldSamlProvider(request, app=saml.app_of(connection))
    next_url = reverse("security_settings")
    response: HttpResponse = provider.redirect(request, AuthProcess.CONNECT, next_url=next_url)
    return response
