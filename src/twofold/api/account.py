"""Who is signed in (``GET /api/v1/me``, for the host application) and their account
(``/api/v1/organization``)."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses, serializers
from twofold.api.endpoint import Call, endpoint
from twofold.organizations import flows, language
from twofold.organizations.forms import MemberLanguageForm, OrganizationForm
from twofold.organizations.models import require_administrator


@endpoint("GET")
def me(call: Call) -> HttpResponse:
    """Who is signed in, how (AMR) and how strongly (AAL): for the host application.

    A browser session's check is usually answered earlier by api/session_check.py."""
    return responses.ok(serializers.signed_in_as(call.membership, call.session))


@endpoint("GET", "PATCH")
def preferences(call: Call) -> HttpResponse:
    """The member's language: their own choice (null: the account's default, else the browser's)."""
    if call.request.method == "PATCH":
        data = call.validated(MemberLanguageForm, defaults={"language": call.user.language})
        language.choose_language(call.user, data["language"])
    return responses.ok(serializers.preferences(call.user))


@endpoint("GET", "PATCH")
def organization(call: Call) -> HttpResponse:
    actor = call.membership
    if call.request.method == "PATCH":
        require_administrator(actor)  # a member hears 403, whatever the body
        current = actor.organization
        data = call.validated(
            OrganizationForm,
            defaults={
                "name": current.name,
                "default_language": current.default_language,
                "default_country": current.default_country,
            },
        )
        flows.rename_organization(actor, data["name"])
        flows.set_default_language(actor, data["default_language"])
        flows.set_default_country(actor, data["default_country"])
    return responses.ok(serializers.organization(actor.organization))
