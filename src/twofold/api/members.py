"""An account's members and invitations in the JSON API: thin skins over the same flows and forms
as the members page."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses, serializers
from twofold.api.endpoint import BadInput, Call, PublicCall, endpoint, public_endpoint
from twofold.factors import member_list, reset
from twofold.organizations import flows
from twofold.organizations.forms import (
    AcceptInvitationForm,
    InviteForm,
    MemberFilterForm,
    RoleForm,
)
from twofold.organizations.models import Membership, require_administrator


def _member(actor: Membership, target: Membership) -> dict[str, Any]:
    return serializers.member(target, member_list.two_factor_of(actor, target))


@endpoint("GET")
def members(call: Call) -> HttpResponse:
    """``?two_factor=off``: only the members without 2FA (administrators)."""
    actor = call.membership
    filters = MemberFilterForm(call.request.GET)
    if not filters.is_valid():
        raise BadInput(responses.form_errors(filters.errors.get_json_data()))
    listed = member_list.list_members(actor, without_two_factor=filters.without_two_factor())
    return responses.ok([_member(actor, m) for m in listed])


@endpoint("GET", "PATCH")
def member(call: Call, membership_id: int) -> HttpResponse:
    actor = call.membership
    if call.request.method == "PATCH":
        require_administrator(actor)
        target = flows.change_role(actor, membership_id, call.validated(RoleForm)["role"])
    else:
        target = flows.get_member(actor, membership_id)
    return responses.ok(_member(actor, target))


@endpoint("POST")
def deactivate_member(call: Call, membership_id: int) -> HttpResponse:
    actor = call.membership
    return responses.ok(_member(actor, flows.deactivate_member(actor, membership_id)))


@endpoint("POST")
def reactivate_member(call: Call, membership_id: int) -> HttpResponse:
    actor = call.membership
    return responses.ok(_member(actor, flows.reactivate_member(actor, membership_id)))


@endpoint("POST")
def reset_member_two_factor(call: Call, membership_id: int) -> HttpResponse:
    """Remove the member's second factors, end their sessions (administrators, fresh password)."""
    actor = call.membership
    require_administrator(actor)  # a member hears 403, however recently they signed in
    # The administrator's own recent authentication (ASVS 7.5.1), as for turning one's own 2FA off.
    call.require_fresh()
    return responses.ok(_member(actor, reset.reset_two_factor(actor, membership_id)))


@endpoint("GET", "POST")
def invitations(call: Call) -> HttpResponse:
    actor = call.membership
    if call.request.method == "POST":
        require_administrator(actor)
        data = call.validated(InviteForm)
        issued = flows.invite_member(actor, data["email"], data["role"])
        return responses.ok(serializers.invitation(issued.invitation), status=201)
    return responses.ok([serializers.invitation(i) for i in flows.list_invitations(actor)])


@endpoint("DELETE")
def invitation(call: Call, invitation_id: int) -> HttpResponse:
    flows.revoke_invitation(call.membership, invitation_id)
    return HttpResponse(status=204)


@public_endpoint("GET", "POST")
def accept_invitation(call: PublicCall) -> HttpResponse:
    """GET ?token=: what the invitation is for. POST {token, password, name}: accept it."""
    source = call.request.GET if call.request.method == "GET" else call.body
    token = source.get("token")
    if not isinstance(token, str) or not token:
        raise BadInput(
            responses.error(400, "required", "The invitation token is required.", "token")
        )
    if call.request.method == "GET":
        found = flows.find_invitation(token)
        return responses.ok(
            {
                "email": found.email,
                "organization": found.organization.name,
                "expires_at": found.expires_at.isoformat(),
            }
        )
    data = call.validated(AcceptInvitationForm)
    user = flows.accept_invitation(token, data["password"], data["name"])
    return responses.ok({"email": user.email}, status=201)
