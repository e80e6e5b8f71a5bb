""" "Sign in with SSO" for app and SPA clients: which identity provider a work email goes to.

The client then starts the sign-in with allauth's ``POST /_allauth/browser/v1/auth/provider/
redirect`` (``provider`` = the id answered here, ``process=login``, ``callback_url``), exactly as
for Google and Microsoft; refusals come back to ``callback_url`` with ``error=``.
"""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import PublicCall, public_endpoint
from twofold.sso import flows
from twofold.sso.forms import SsoEmailForm


@public_endpoint("POST")
def discover(call: PublicCall) -> HttpResponse:
    """POST {email}: the SAML connection of the account that claims the email's domain."""
    email = call.validated(SsoEmailForm)["email"]
    connection = flows.connection_for_email(email)
    return responses.ok({"provider": {"id": connection.provider_id, "name": connection.name}})
