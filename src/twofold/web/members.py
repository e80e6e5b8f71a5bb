"""The members page of an account's administrators (roles, deactivation, 2FA resets, invitations)
and accepting an invitation: thin skins over the same flows and forms as the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold.errors import FlowError
from twofold.factors import member_list, reset
from twofold.organizations import flows
from twofold.organizations.forms import (
    AcceptInvitationForm,
    InviteForm,
    MemberFilterForm,
    RoleForm,
)
from twofold.organizations.models import Membership
from twofold.signin.login_form import INVITED_EMAIL
from twofold.web.decorators import administrator_required, fresh, signed_in_membership

View = Callable[..., HttpResponse]


@administrator_required
def members(request: HttpRequest) -> HttpResponse:
    actor = signed_in_membership(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = flows.invite_member(
                actor, form.cleaned_data["email"], form.cleaned_data["role"]
            )
        except FlowError as error:
            form.add_error(error.param, error.message)
        else:
            messages.success(
                request,
                gettext("An invitation was sent to %(email)s.")
                % {"email": issued.invitation.email},
            )
            return redirect("members")
    filters = MemberFilterForm(request.GET)
    listed = member_list.list_members(actor, without_two_factor=filters.without_two_factor())
    context = {
        "form": form,
        "filters": filters,
        "members": [(m, member_list.two_factor_of(actor, m)) for m in listed],
        "invitations": flows.list_invitations(actor),
        "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
    }
    return render(request, "twofold/members.html", context)


def _member_action(action: Callable[[Membership, int, HttpRequest], str]) -> View:
    @administrator_required
    @require_POST
    @wraps(action)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        try:
            messages.success(request, action(signed_in_membership(request), pk, request))
        except FlowError as error:
            messages.error(request, error.message)
        return redirect("members")

    return view


@_member_action
def change_role(actor: Membership, membership_id: int, request: HttpRequest) -> str:
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise FlowError(gettext("Choose a role: administrator or member."))
    target = flows.change_role(actor, membership_id, form.cleaned_data["role"])
    return f"{target.user.email} is now {target.get_role_display().lower()}."


@administrator_required
def deactivate_member(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (not one click: issue 19); POST deactivates."""
    if request.method == "POST":
        return _deactivate(request, pk)
    try:
        target = flows.get_member(signed_in_membership(request), pk)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect("members")
    return render(request, "twofold/member_deactivate.html", {"member": target})


@_member_action
def _deactivate(actor: Membership, membership_id: int, request: HttpRequest) -> str:
    target = flows.deactivate_member(actor, membership_id)
    return f"{target.user.email} was deactivated and signed out everywhere."


@administrator_required
@fresh
def reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the member's second factors."""
    actor = signed_in_membership(request)
    try:
        if request.method != "POST":
            found = reset.resettable(actor, pk)
            return render(request, "twofold/member_reset_two_factor.html", {"found": found})
        target = reset.reset_two_factor(actor, pk)
    except FlowError as error:
        messages.error(request, error.message)
        return redirect("members")
    messages.success(
        request,
        gettext(
            "Two-factor authentication of %(email)s was reset. "
            "They were signed out everywhere and told by email."
        )
        % {"email": target.user.email},
    )
    return redirect("members")


@_member_action
def reactivate_member(actor: Membership, membership_id: int, request: HttpRequest) -> str:
    target = flows.reactivate_member(actor, membership_id)
    return f"{target.user.email} can sign in again."


@_member_action
def revoke_invitation(actor: Membership, invitation_id: int, request: HttpRequest) -> str:
    flows.revoke_invitation(actor, invitation_id)
    return "The invitation was withdrawn."


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = flows.find_invitation(token)
    except FlowError as error:
        return render(
            request, "twofold/invitation_invalid.html", {"error": error}, status=error.status
        )
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.accept_invitation(token, form.cleaned_data["password"], form.cleaned_data["name"])
        except FlowError as error:
            form.add_error("password" if error.param == "password" else None, error.message)
        else:
            messages.success(
                request, gettext("Welcome! Your password is set: sign in to continue.")
            )
            request.session[INVITED_EMAIL] = invitation.email  # the sign-in page fills it in
            return redirect("account_login")
    return render(
        request, "twofold/invitation_accept.html", {"form": form, "invitation": invitation}
    )
