"""The account's applications in the JSON API (administrators): the same flows and forms as the
"Applications" pages. The client secret is in the answer to the registration and to a rotation,
and nowhere else. A PATCH changes only the fields it names.

Every change needs the administrator's recent authentication (ASVS 7.5.1): 401
``reauthentication_required`` otherwise; reading does not."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.idp import applications as flows
from twofold.idp.forms import (
    ApplicationChangeForm,
    ApplicationForm,
    current_values,
    new_application_defaults,
)
from twofold.idp.models import Application
from twofold.organizations.models import require_administrator


def application_json(application: Application, secret: str | None = None) -> dict[str, Any]:
    old_until = flows.old_secret_valid_until(application)
    shown: dict[str, Any] = {
        "id": application.pk,
        "name": application.name,
        "client_id": application.client_id,
        "client_type": application.client_type,
        "redirect_uris": application.redirect_uris.split(),
        "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
        "scopes": application.allowed_scopes.split(),
        "backchannel_logout_uri": application.backchannel_logout_uri or None,
        "subject_type": application.subject_type,
        "created_at": application.created.isoformat(),
        "old_secret_valid_until": old_until.isoformat() if old_until else None,
    }
    if secret is not None:
        shown["client_secret"] = secret  # this once
    return shown


@endpoint("GET", "POST")
def applications(call: Call) -> HttpResponse:
    actor = call.membership
    require_administrator(actor)
    if call.request.method == "POST":
        call.require_fresh()
        data = call.validated(ApplicationForm, new_application_defaults())
        done = flows.register_for(actor, data)
        return responses.ok(application_json(done.application, done.client_secret), status=201)
    return responses.ok([application_json(a) for a in flows.list_applications(actor)])


@endpoint("GET", "PATCH", "DELETE")
def application(call: Call, application_id: int) -> HttpResponse:
    actor = call.membership
    found = flows.get_application(actor, application_id)  # 403, then 404
    if call.request.method != "GET":
        call.require_fresh()
    if call.request.method == "DELETE":
        flows.delete_application(actor, application_id)
        return HttpResponse(status=204)
    if call.request.method == "PATCH":
        data = call.validated(ApplicationChangeForm, current_values(found))
        found = flows.change_application(actor, application_id, data)
    return responses.ok(application_json(found))


@endpoint("POST", "DELETE")
def secret(call: Call, application_id: int) -> HttpResponse:
    """POST: a new secret, in this answer only; the one before works until
    ``old_secret_valid_until``. DELETE: that old secret ends now."""
    actor = call.membership
    flows.get_application(actor, application_id)  # 403, then 404
    call.require_fresh()
    if call.request.method == "DELETE":
        return responses.ok(application_json(flows.end_previous_secret(actor, application_id)))
    done = flows.rotate_secret(actor, application_id)
    return responses.ok(application_json(done.application, done.client_secret))
