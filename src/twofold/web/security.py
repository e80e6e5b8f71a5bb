"""The member's "Password and Two-Factor Authentication" page: their factors, remembered
browsers, recent security events, linked identity providers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twofold.audit import flows as audit_flows
from twofold.factors import methods
from twofold.factors import status as factor_status
from twofold.factors.policy import allowed_methods_for
from twofold.factors.sms import flows as sms_flows
from twofold.factors.totp import flows as totp_flows
from twofold.sessions import member_sessions as sessions
from twofold.signin import remembered
from twofold.sms.numbers import formatted
from twofold.sso import flows as sso_flows
from twofold.users.models import User


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
        "allowed_methods": allowed_methods_for(user),  # the account's method policy
        "remembered_devices": [
            (device, remembered.is_current(request, device)) for device in remembered.listed(user)
        ],
        "pending": enrollment,
        "pending_phone": formatted(enrollment.phone) if enrollment else None,
        "security_events": audit_flows.own_recent_events(user),
        "identity_providers": sso_flows.identity_providers(user),
        "offer": sessions.pending_offer(user, request.session),  # ASVS 7.4.3
    }
    return render(request, "twofold/security_settings.html", context)
