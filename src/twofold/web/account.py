""" "Account & Security", for administrators: the account's name and its mandatory-2FA policy.

Thin skins over ``organizations/flows.py`` (renaming) and ``factors/policy.py`` (the
policy and its methods, saved by one form through ``change_security_policy``; signing out
members without 2FA), with the same forms and flow as the JSON API.

An administrator without 2FA who ticks "Mandatory Two-Factor-Authentication" is led through her
own set-up first (``two_factor_required_first``); her intent is kept in the session
(:data:`INTENT`) and saved as soon as her first factor is on (:func:`apply_kept_policy`, called by
the activation pages), in that request, which is as fresh as saving the policy needs. Until then,
or when it cannot be saved for her, this page shows the box ticked and says it is not saved yet.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from twofold import clock
from twofold.errors import FlowError
from twofold.factors import policy
from twofold.factors.forms import MethodPolicyForm, SecurityPolicyForm
from twofold.factors.member_factors import has_second_factor
from twofold.organizations import flows
from twofold.organizations.forms import OrganizationForm
from twofold.organizations.models import Membership, Organization, membership_of
from twofold.sessions.freshness import recently_authenticated
from twofold.web.decorators import (
    administrator_required,
    fresh,
    signed_in_membership,
    signed_in_user,
)

# The policy an administrator asked for before she had 2FA herself, until it is saved.
INTENT = "twofold_policy_intent"
# Applied for her only this long after she asked (an enrollment's 15 minutes): later, the page
# offers it again ticked, and she saves it herself.
INTENT_LIFETIME = 15 * 60
# A hidden field of the page's form: the methods were on it (an unticked box is not sent).
METHODS_SENT = "method_policy"


class PolicyIntent(TypedDict):
    user: int
    organization: int
    require_two_factor: bool
    grace_days: int
    allowed_two_factor_methods: list[str] | None
    allow_remembered_devices: bool | None
    at: float  # time.time() when she asked


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
    intent = kept_intent(request)
    if intent is not None:  # what she asked for, not saved yet: the box as she left it
        initial = {
            "require_two_factor": intent["require_two_factor"],
            "two_factor_grace_days": intent["grace_days"],
        }
    context: dict[str, Any] = {
        "intent": intent,
        "own_two_factor": has_second_factor(signed_in_user(request)),
        "enroll_url": _enroll_url(),
        "form": name_form or OrganizationForm(initial=_account_initial(organization)),
        "policy_form": policy_form or SecurityPolicyForm(initial=initial),
        "methods_form": methods_form or _methods_form(organization, intent),
        "rule": rule,
        "days_left": rule.days_left(clock.now()),
        "without_two_factor": policy.members_without_two_factor(organization).count(),
    }
    return render(request, "twofold/account_settings.html", context)


def _account_initial(organization: Organization) -> dict[str, str]:
    return {
        "name": organization.name,
        "default_language": organization.default_language,
        "default_country": organization.default_country,
    }


@administrator_required
def account_settings(request: HttpRequest) -> HttpResponse:
    actor = signed_in_membership(request)
    form = OrganizationForm(request.POST or None, initial=_account_initial(actor.organization))
    if request.method == "POST" and form.is_valid():
        flows.rename_organization(actor, form.cleaned_data["name"])
        flows.set_default_language(actor, form.cleaned_data["default_language"])
        flows.set_default_country(actor, form.cleaned_data["default_country"])
        messages.success(request, gettext("The account name was saved."))
        return redirect("account_settings")
    return _render(request, name_form=form)


@administrator_required
@fresh  # changes how members authenticate (ASVS 7.5.1)
@require_POST
def security_policy(request: HttpRequest) -> HttpResponse:
    """The panel's one form: the mandatory-2FA rule and the methods, saved together or not at
    all (a person who ticks one and unticks the other presses one button)."""
    form = SecurityPolicyForm(request.POST)
    # The page's form always carries the methods; a POST of the rule alone leaves them as they are.
    methods_form = MethodPolicyForm(request.POST) if METHODS_SENT in request.POST else None
    if not form.is_valid() or (methods_form is not None and not methods_form.is_valid()):
        return _render(request, policy_form=form, methods_form=methods_form)
    cleaned = {**form.cleaned_data, **(methods_form.cleaned_data if methods_form else {})}
    try:
        _save(signed_in_membership(request), cleaned)
    except FlowError as error:
        if error.code == "two_factor_required_first":
            _keep_intent(request, cleaned)
            return _enroll_first(request, error)
        target = methods_form if methods_form and error.param in methods_form.fields else form
        target.add_error(error.param if error.param in target.fields else None, error.message)
        return _render(request, policy_form=form, methods_form=methods_form)
    request.session.pop(INTENT, None)  # saved: nothing is left to apply
    messages.success(request, gettext("The security policy was saved."))
    return redirect("account_settings")


def _save(actor: Membership, cleaned: dict[str, Any]) -> None:
    policy.change_security_policy(
        actor,
        require_two_factor=bool(cleaned["require_two_factor"]),
        grace_days=int(cleaned["two_factor_grace_days"]),
        methods=cleaned.get("allowed_two_factor_methods"),
        allow_remembered_devices=cleaned.get("allow_remembered_devices"),
    )


def _keep_intent(request: HttpRequest, cleaned: dict[str, Any]) -> None:
    actor = signed_in_membership(request)
    request.session[INTENT] = PolicyIntent(
        user=actor.user_id,
        organization=actor.organization_id,
        require_two_factor=bool(cleaned["require_two_factor"]),
        grace_days=int(cleaned["two_factor_grace_days"]),
        allowed_two_factor_methods=cleaned.get("allowed_two_factor_methods"),
        allow_remembered_devices=cleaned.get("allow_remembered_devices"),
        at=time.time(),
    )


def kept_intent(request: HttpRequest) -> PolicyIntent | None:
    """The policy this administrator asked for in this session and that is not saved yet; None
    when there is none, or when it was another user's or another account's."""
    intent: PolicyIntent | None = request.session.get(INTENT)
    actor = membership_of(signed_in_user(request))
    if intent is None or actor is None:
        return None
    if (intent.get("user"), intent.get("organization")) != (actor.user_id, actor.organization_id):
        return None
    return intent


def apply_kept_policy(request: HttpRequest) -> bool:
    """Her first factor is on: save the policy she asked for before, as the policy page would.

    Only a recent intent, of this administrator and account, in a session authenticated within
    the freshness window (the policy page's own ``@fresh``, ASVS 7.5.1); the flow checks her role
    and her 2FA again. True when saved; otherwise the page shows the intent, to save by hand.
    """
    intent = kept_intent(request)
    actor = membership_of(signed_in_user(request))
    if intent is None or actor is None or time.time() - intent["at"] > INTENT_LIFETIME:
        return False
    if not recently_authenticated(request.session, signed_in_user(request)):
        return False  # saving the policy needs a recent authentication, as on its page
    try:
        _save_intent(actor, intent)
    except FlowError as error:
        messages.error(request, error.message)  # e.g. a member lost the role meanwhile
        return False
    request.session.pop(INTENT, None)
    messages.success(
        request,
        gettext(
            "The mandatory two-factor authentication you asked for is on: the security policy "
            "was saved."
        ),
    )
    return True


def _save_intent(actor: Membership, intent: PolicyIntent) -> None:
    _save(
        actor,
        {
            "require_two_factor": intent["require_two_factor"],
            "two_factor_grace_days": intent["grace_days"],
            "allowed_two_factor_methods": intent.get("allowed_two_factor_methods"),
            "allow_remembered_devices": intent.get("allow_remembered_devices"),
        },
    )


def _methods_form(organization: Organization, intent: PolicyIntent | None) -> MethodPolicyForm:
    initial = _method_policy(organization)
    if intent is not None and intent.get("allowed_two_factor_methods") is not None:
        initial = {
            "allowed_two_factor_methods": intent["allowed_two_factor_methods"],
            "allow_remembered_devices": intent.get("allow_remembered_devices"),
        }
    return MethodPolicyForm(initial=initial)


def _method_policy(organization: Organization) -> dict[str, Any]:
    return {
        "allowed_two_factor_methods": list(policy.allowed_methods_of(organization)),
        "allow_remembered_devices": organization.allow_remembered_devices,
    }


def _enroll_first(request: HttpRequest, error: FlowError) -> HttpResponse:
    """The administrator sets up their own 2FA; the policy she asked for is saved after."""
    messages.info(request, error.message)
    return redirect(_enroll_url())


def _enroll_url() -> str:
    """Her own 2FA set-up, which comes back here after activation."""
    query = urlencode({"next": reverse("account_settings")})
    return f"{reverse('two_factor_enable')}?{query}"


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
