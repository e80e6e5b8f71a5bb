"""Who is signed in (``GET /api/v1/me``, for the host application) and their account
(``/api/v1/organization``)."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses, serializers
from twofold.api.endpoint import Call, endpoint
from twofold.organizations import flows
from twofold.organizations.forms import (
    OrganizationForm,
)
from twofold.organizations.models import require_administrator


@endpoint("GET")
def me(call: Call) -> HttpResponse:
    """Who is signed in, how (AMR) and how strongly (AAL): for the host application.

    A browser session's check is usually answered earlier by api/session_check.py."""
    return responses.ok(serializers.signed_in_as(call.membership, call.session))


@endpoint("GET", "PATCH")
def organization(call: Call) -> HttpResponse:
    actor = call.membership
    if call.request.method == "PATCH":
        require_administrator(actor)  # a member hears 403, whatever the body
        flows.rename_organization(actor, call.validated(OrganizationForm)["name"])
    return responses.ok(serializers.organization(actor.organization))
