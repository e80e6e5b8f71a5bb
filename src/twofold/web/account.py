""" "Account & Security", for administrators: the account's name and its mandatory-2FA policy.

Thin skins over ``organizations/flows.py`` (renaming) and ``factors/policy.py`` (the
policy, signing out members without 2FA), with the same forms as the JSON API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from twofold import clock
from twofold.errors import FlowError
from twofold.factors import policy
from twofold.factors.forms import MethodPolicyForm, SecurityPolicyForm
from twofold.organizations import flows
from twofold.organizations.forms import OrganizationForm
from twofold.organizations.models import Organization
from twofold.web.decorators import administrator_required, fresh, signed_in_membership


def _render(
    request: HttpRequest,
    *,
    name_form: forms.Form | None = None,
    policy_form: forms.Form | None = None,
    methods_form: forms.Form | None = None,
) -> HttpResponse:
    organization = signed_in_membership(request).organization
    rule = policy.rule_of(organization)
    initial = {
        "require_two_factor": rule.required,
        "two_factor_grace_days": rule.grace_days,
    }
    context: dict[str, Any] = {
        "form": name_form or OrganizationForm(initial={"name": organization.name}),
        "policy_form": policy_form or SecurityPolicyForm(initial=initial),
        "methods_form": methods_form or _methods_form(organization),
        "rule": rule,
        "days_left": rule.days_left(clock.now()),
        "without_two_factor": policy.members_without_two_factor(organization).count(),
    }
    return render(request, "twofold/account_settings.html", context)


@administrator_required
def account_settings(request: HttpRequest) -> HttpResponse:
    actor = signed_in_membership(request)
    form = OrganizationForm(request.POST or None, initial={"name": actor.organization.name})
    if request.method == "POST" and form.is_valid():
        flows.rename_organization(actor, form.cleaned_data["name"])
        messages.success(request, "The account name was saved.")
        return redirect("account_settings")
    return _render(request, name_form=form)


@administrator_required
@fresh  # changes how members authenticate (ASVS 7.5.1)
@require_POST
def security_policy(request: HttpRequest) -> HttpResponse:
    form = SecurityPolicyForm(request.POST)
    if not form.is_valid():
        return _render(request, policy_form=form)
    try:
        policy.change_policy(
            signed_in_membership(request),
            require_two_factor=form.cleaned_data["require_two_factor"],
            grace_days=form.cleaned_data["two_factor_grace_days"],
        )
    except FlowError as error:
        if error.code == "two_factor_required_first":
            return _enroll_first(request, error)
        form.add_error(error.param if error.param in form.fields else None, error.message)
        return _render(request, policy_form=form)
    messages.success(request, "The security policy was saved.")
    return redirect("account_settings")


def _methods_form(organization: Organization) -> MethodPolicyForm:
    return MethodPolicyForm(initial=_method_policy(organization))


def _method_policy(organization: Organization) -> dict[str, Any]:
    return {
        "allowed_two_factor_methods": list(policy.allowed_methods_of(organization)),
        "allow_remembered_devices": organization.allow_remembered_devices,
    }


@administrator_required
@fresh  # changes how members authenticate (ASVS 7.5.1)
@require_POST
def allowed_methods(request: HttpRequest) -> HttpResponse:
    """Which second factors members may use, and whether browsers may be remembered."""
    form = MethodPolicyForm(request.POST)
    if form.is_valid():
        try:
            policy.change_method_policy(
                signed_in_membership(request),
                methods=form.cleaned_data["allowed_two_factor_methods"],
                allow_remembered_devices=form.cleaned_data["allow_remembered_devices"],
            )
        except FlowError as error:
            form.add_error(error.param if error.param in form.fields else None, error.message)
    if not form.is_valid():
        return _render(request, methods_form=form)
    messages.success(request, "The two-factor methods were saved.")
    return redirect("account_settings")


def _enroll_first(request: HttpRequest, error: FlowError) -> HttpResponse:
    """The administrator sets up their own 2FA, then comes back here to tick the box."""
    messages.info(request, error.message)
    query = urlencode({"next": reverse("account_settings")})
    return redirect(f"{reverse('two_factor_enable')}?{query}")


@administrator_required
@require_POST
def sign_out_members_without_two_factor(request: HttpRequest) -> HttpResponse:
    try:
        result = policy.sign_out_members_without_two_factor(signed_in_membership(request))
    except FlowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _signed_out_message(result))
    return redirect("account_settings")


def _signed_out_message(result: policy.SignedOut) -> str:
    if not result.members:
        return "No member without two-factor authentication was signed in."
    who = "1 member" if result.members == 1 else f"{result.members} members"
    verb = "was" if result.members == 1 else "were"
    return (
        f"{who} without two-factor authentication {verb} signed out everywhere. "
        "At their next sign-in they set it up."
    )
