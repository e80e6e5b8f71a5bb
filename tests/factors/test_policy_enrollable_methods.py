"""Mandatory 2FA and the method policy together must leave members without a second factor
something to set up at sign-in (forced enrollment offers an authenticator app or SMS; security
keys are added from the settings page once signed in): ``no_enrollable_method``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import freshly_signed_in, require_two_factor
from twofold.errors import FlowError
from twofold.factors import methods, policy
from twofold.organizations.models import Organization
from twofold.signin import forced_enrollment

POLICY_API = "/api/v1/organization/security"
POLICY_PAGE = "/account/security/"
METHODS_PAGE = "/account/security/"
# The page's one form sends the rule with the methods (issue 19): the rule as the account has it.
KEEP_RULE = {"two_factor_grace_days": "0", "method_policy": "1"}


def saved(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


def patch(client: Client, body: dict[str, Any]):
    return client.generic("PATCH", POLICY_API, json.dumps(body), content_type="application/json")


def codes_of(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def test_forced_enrollment_sets_up_only_what_the_policy_keeps_enrollable():
    assert set(forced_enrollment.ENROLLABLE) == set(policy.ENROLLABLE)
    assert methods.WEBAUTHN not in policy.ENROLLABLE


def test_only_security_keys_are_refused_while_2fa_is_mandatory(administrator_with_sms):
    require_two_factor(administrator_with_sms.organization)
    with pytest.raises(FlowError) as refused:
        policy.change_method_policy(administrator_with_sms, methods=[methods.WEBAUTHN])
    assert (refused.value.code, refused.value.status) == ("no_enrollable_method", 400)
    assert refused.value.param == "allowed_two_factor_methods"
    assert policy.allowed_methods_of(saved(administrator_with_sms.organization)) == (
        methods.METHODS
    )


def test_only_security_keys_are_allowed_while_2fa_is_optional(administrator):
    policy.change_method_policy(administrator, methods=[methods.WEBAUTHN])
    assert policy.allowed_methods_of(saved(administrator.organization)) == (methods.WEBAUTHN,)


def test_security_keys_with_an_enrollable_method_are_allowed_while_mandatory(
    administrator_with_sms,
):
    require_two_factor(administrator_with_sms.organization)
    policy.change_method_policy(administrator_with_sms, methods=[methods.WEBAUTHN, methods.TOTP])
    organization = saved(administrator_with_sms.organization)
    assert policy.allowed_methods_of(organization) == (methods.WEBAUTHN, methods.TOTP)


def test_requiring_2fa_is_refused_while_only_security_keys_are_allowed(administrator_with_sms):
    policy.change_method_policy(administrator_with_sms, methods=[methods.WEBAUTHN])
    with pytest.raises(FlowError) as refused:
        policy.change_policy(administrator_with_sms, require_two_factor=True, grace_days=0)
    assert refused.value.code == "no_enrollable_method"
    assert refused.value.param == "require_two_factor"
    assert saved(administrator_with_sms.organization).require_two_factor is False


def test_api_refuses_only_security_keys_while_mandatory_with_a_400(administrator_with_sms):
    require_two_factor(administrator_with_sms.organization)
    client = freshly_signed_in(Client(), administrator_with_sms)
    refused = patch(client, {"allowed_two_factor_methods": ["webauthn"]})
    assert refused.status_code == 400
    assert codes_of(refused) == [("no_enrollable_method", "allowed_two_factor_methods")]
    assert policy.allowed_methods_of(saved(administrator_with_sms.organization)) == (
        methods.METHODS
    )


def test_api_refuses_requiring_2fa_and_only_security_keys_at_once_and_saves_neither(
    administrator_with_sms,
):
    client = freshly_signed_in(Client(), administrator_with_sms)
    refused = patch(
        client, {"require_two_factor": True, "allowed_two_factor_methods": ["webauthn"]}
    )
    assert refused.status_code == 400
    assert codes_of(refused)[0][0] == "no_enrollable_method"
    organization = saved(administrator_with_sms.organization)
    assert organization.require_two_factor is False  # nothing half-saved
    assert policy.allowed_methods_of(organization) == methods.METHODS


def test_api_allows_only_security_keys_while_turning_mandatory_2fa_off(administrator_with_sms):
    require_two_factor(administrator_with_sms.organization)
    client = freshly_signed_in(Client(), administrator_with_sms)
    done = patch(client, {"require_two_factor": False, "allowed_two_factor_methods": ["webauthn"]})
    assert done.status_code == 200, done.content
    assert done.json()["data"]["allowed_two_factor_methods"] == ["webauthn"]
    assert done.json()["data"]["require_two_factor"] is False


def test_api_requires_2fa_and_an_app_at_once(administrator_with_sms):
    policy.change_method_policy(administrator_with_sms, methods=[methods.WEBAUTHN])
    client = freshly_signed_in(Client(), administrator_with_sms)
    done = patch(client, {"require_two_factor": True, "allowed_two_factor_methods": ["totp"]})
    assert done.status_code == 200, done.content
    assert done.json()["data"]["require_two_factor"] is True


def test_page_explains_why_only_security_keys_are_refused(administrator_with_sms):
    require_two_factor(administrator_with_sms.organization)
    client = freshly_signed_in(Client(), administrator_with_sms)
    refused = client.post(
        METHODS_PAGE,
        {**KEEP_RULE, "require_two_factor": "on", "allowed_two_factor_methods": ["webauthn"]},
    )
    assert refused.status_code == 200
    assert "allow an authenticator app or SMS too" in refused.content.decode()
    assert policy.allowed_methods_of(saved(administrator_with_sms.organization)) == (
        methods.METHODS
    )


def test_page_explains_why_requiring_2fa_is_refused(administrator_with_sms):
    policy.change_method_policy(administrator_with_sms, methods=[methods.WEBAUTHN])
    client = freshly_signed_in(Client(), administrator_with_sms)
    refused = client.post(POLICY_PAGE, {"require_two_factor": "on", "two_factor_grace_days": "0"})
    assert refused.status_code == 200
    assert "allow an authenticator app or SMS too" in refused.content.decode()
    assert saved(administrator_with_sms.organization).require_two_factor is False
