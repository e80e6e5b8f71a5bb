"""A refused SSO sign-in: audited, then a page, or for an API client's browser a redirect to its
app with ``error=denied`` (allauth headless), and nobody signed in."""

from __future__ import annotations

from typing import Any

from allauth.headless.socialaccount import internal as headless
from allauth.socialaccount.providers.base.constants import AuthError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twofold import metrics
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.sso.models import SamlConnection
from twofold.users.models import User

SSO = "sso"  # the sign-in's method in the metrics


def refuse(
    request: HttpRequest,
    provider: Any,
    *,
    message: str,
    reason: str,
    state: dict[str, Any] | None = None,
    subject: User | None = None,
    connection: SamlConnection | None = None,
) -> HttpResponse:
    detail = {"provider": str(provider.sub_id), "reason": reason}
    metrics.sign_in(SSO, metrics.FAILURE)
    record(
        Event.SSO_SIGN_IN_REFUSED,
        subject=subject,
        organization=connection.organization if connection else None,
        factor="sso",
        detail=detail,
    )
    if state is not None:
        # Raises ImmediateHttpResponse (a redirect to the app) when the login is headless.
        headless.on_authentication_error(
            request, provider, error=AuthError.DENIED, extra_context={"state": state}
        )
    return render(request, "sso/refused.html", {"message": message}, status=403)
