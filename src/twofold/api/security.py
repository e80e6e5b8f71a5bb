"""The account's mandatory-2FA policy in the JSON API: the same flows and form as the
"Account & Security" page (administrators only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold import clock
from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.factors import policy
from twofold.factors.forms import MethodPolicyForm, SecurityPolicyForm
from twofold.organizations.models import Organization, require_administrator


def _policy(organization: Organization) -> dict[str, Any]:
    rule = policy.rule_of(organization)
    since, ends = rule.required_since, rule.grace_ends_at
    return {
        "require_two_factor": rule.required,
        "two_factor_grace_days": rule.grace_days,
        "two_factor_required_since": since.isoformat() if since else None,
        "grace_ends_at": ends.isoformat() if ends else None,
        "grace_days_left": rule.days_left(clock.now()),
        "members_without_two_factor": policy.members_without_two_factor(organization).count(),
        "allowed_two_factor_methods": list(policy.allowed_methods_of(organization)),
        "allow_remembered_devices": organization.allow_remembered_devices,
    }


METHOD_POLICY_FIELDS = {"allowed_two_factor_methods", "allow_remembered_devices"}


@endpoint("GET", "PATCH")
def security_policy(call: Call) -> HttpResponse:
    """PATCH ``{require_two_factor?, two_factor_grace_days?, allowed_two_factor_methods?,
    allow_remembered_devices?}``: what is left out stays."""
    actor = call.membership
    require_administrator(actor)  # a member hears 403, whatever the body
    if call.request.method == "PATCH":
        # Changes how members authenticate: the administrator's recent authentication (ASVS 7.5.1).
        call.require_fresh()
        current = policy.rule_of(actor.organization)
        defaults = {
            "require_two_factor": current.required,
            "two_factor_grace_days": current.grace_days,
        }
        method_policy = None
        if METHOD_POLICY_FIELDS & call.body.keys():  # the method policy: its own form
            organization = actor.organization
            method_defaults = {
                "allowed_two_factor_methods": list(policy.allowed_methods_of(organization)),
                "allow_remembered_devices": organization.allow_remembered_devices,
            }
            method_policy = call.validated(MethodPolicyForm, method_defaults)
        data = call.validated(SecurityPolicyForm, defaults)

        methods = method_policy or {}
        policy.change_security_policy(
            actor,
            require_two_factor=data["require_two_factor"],
            grace_days=data["two_factor_grace_days"],
            methods=methods.get("allowed_two_factor_methods"),
            allow_remembered_devices=methods.get("allow_remembered_devices"),
        )
    return responses.ok(_policy(actor.organization))


@endpoint("POST")
def sign_out_members_without_two_factor(call: Call) -> HttpResponse:
    result = policy.sign_out_members_without_two_factor(call.membership)
    return responses.ok({"members": result.members, "sessions": result.sessions})
