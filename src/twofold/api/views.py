"""Twofold's own JSON endpoints, thin skins over the same flows and forms as the pages."""

from __future__ import annotations

from django.http import HttpResponse

from twofold.api import responses, serializers
from twofold.api.endpoint import BadInput, Call, endpoint
from twofold.organizations import flows
from twofold.organizations.forms import AcceptInvitationForm, InviteForm, OrganizationForm, RoleForm
from twofold.signin import assurance


@endpoint("GET")
def me(call: Call) -> HttpResponse:
    """Who is signed in, how (AMR) and how strongly (AAL): for the host application."""
    membership = call.membership
    amr = assurance.amr(assurance.records(call.session, membership.user))
    return responses.ok(
        {
            "user": {"id": membership.user.pk, "email": membership.user.email},
            "organization": {
                "id": membership.organization_id,
                "name": membership.organization.name,
            },
            "role": membership.role,
            "amr": amr,
            "aal": assurance.level(amr),
        }
    )


@endpoint("GET", "PATCH")
def organization(call: Call) -> HttpResponse:
    actor = call.membership
    if call.request.method == "PATCH":
        flows.require_administrator(actor)  # a member hears 403, whatever the body
        flows.rename_organization(actor, call.validated(OrganizationForm)["name"])
    return responses.ok(serializers.organization(actor.organization))


@endpoint("GET")
def members(call: Call) -> HttpResponse:
    return responses.ok([serializers.member(m) for m in flows.list_members(call.membership)])


@endpoint("GET", "PATCH")
def member(call: Call, membership_id: int) -> HttpResponse:
    actor = call.membership
    if call.request.method == "PATCH":
        flows.require_administrator(actor)
        target = flows.change_role(actor, membership_id, call.validated(RoleForm)["role"])
    else:
        target = flows.get_member(actor, membership_id)
    return responses.ok(serializers.member(target))


@endpoint("POST")
def deactivate_member(call: Call, membership_id: int) -> HttpResponse:
    return responses.ok(serializers.member(flows.deactivate_member(call.membership, membership_id)))


@endpoint("POST")
def reactivate_member(call: Call, membership_id: int) -> HttpResponse:
    return responses.ok(serializers.member(flows.reactivate_member(call.membership, membership_id)))


@endpoint("GET", "POST")
def invitations(call: Call) -> HttpResponse:
    actor = call.membership
    if call.request.method == "POST":
        flows.require_administrator(actor)
        data = call.validated(InviteForm)
        issued = flows.invite_member(actor, data["email"], data["role"])
        return responses.ok(serializers.invitation(issued.invitation), status=201)
    return responses.ok([serializers.invitation(i) for i in flows.list_invitations(actor)])


@endpoint("DELETE")
def invitation(call: Call, invitation_id: int) -> HttpResponse:
    flows.revoke_invitation(call.membership, invitation_id)
    return HttpResponse(status=204)


@endpoint("GET", "POST", authenticated=False)
def accept_invitation(call: Call) -> HttpResponse:
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
