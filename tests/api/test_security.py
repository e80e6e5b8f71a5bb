"""The mandatory-2FA policy in the JSON API (/api/v1/organization/security…): administrators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, require_two_factor, signed_in
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.factors import methods
from twofold.organizations.models import Organization

POLICY = "/api/v1/organization/security"
SIGN_OUT = "/api/v1/organization/security/sign-out-members-without-2fa"


def send(client: Client, method: str, path: str, body: Any = None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json")


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def policy_of(organization: Organization) -> tuple[bool, int]:
    saved = Organization.objects.get(pk=organization.pk)
    return saved.require_two_factor, saved.two_factor_grace_days


@pytest.fixture
def administrator_with_sms_client(administrator_with_sms) -> Client:
    """Signed in just now: changing the policy needs a recent authentication (ASVS 7.5.1)."""
    return freshly_signed_in(Client(), administrator_with_sms)


@pytest.fixture
def administrator_client(administrator) -> Client:
    return freshly_signed_in(Client(), administrator)


def test_administrator_reads_the_policy(administrator_client, member):
    data = administrator_client.get(POLICY).json()["data"]
    assert data == {
        "require_two_factor": False,
        "two_factor_grace_days": 0,
        "two_factor_required_since": None,
        "grace_ends_at": None,
        "grace_days_left": 0,
        "members_without_two_factor": 2,
        "allowed_two_factor_methods": list(methods.METHODS),
        "allow_remembered_devices": True,
    }


def test_administrator_requires_2fa_with_a_grace_period(
    administrator_with_sms, administrator_with_sms_client
):
    response = send(
        administrator_with_sms_client,
        "PATCH",
        POLICY,
        {"require_two_factor": True, "two_factor_grace_days": 14},
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["require_two_factor"], data["two_factor_grace_days"]) == (True, 14)
    assert data["grace_days_left"] == 14
    assert data["two_factor_required_since"] is not None
    assert policy_of(administrator_with_sms.organization) == (True, 14)
    assert AuditEvent.objects.filter(event=Event.POLICY_CHANGED).count() == 1


def test_a_patch_changes_only_the_fields_it_names(
    administrator_with_sms, administrator_with_sms_client
):
    require_two_factor(administrator_with_sms.organization, grace_days=5)

    send(administrator_with_sms_client, "PATCH", POLICY, {"two_factor_grace_days": 30})

    assert policy_of(administrator_with_sms.organization) == (True, 30)


def test_administrator_without_2fa_cannot_require_it_before_enrolling(
    administrator, administrator_client
):
    response = send(administrator_client, "PATCH", POLICY, {"require_two_factor": True})

    assert response.status_code == 409
    assert errors(response) == [("two_factor_required_first", "require_two_factor")]
    assert policy_of(administrator.organization) == (False, 0)


@pytest.mark.parametrize(
    ("days", "code"), [(91, "max_value"), (-1, "min_value"), ("a week", "invalid")]
)
def test_grace_period_outside_0_to_90_days_is_a_400(
    administrator_with_sms, administrator_with_sms_client, days, code
):
    body = {"require_two_factor": True, "two_factor_grace_days": days}

    response = send(administrator_with_sms_client, "PATCH", POLICY, body)

    assert response.status_code == 400
    assert errors(response) == [(code, "two_factor_grace_days")]
    assert "between 0 and 90 days" in response.json()["errors"][0]["message"]
    assert policy_of(administrator_with_sms.organization) == (False, 0)


def test_sign_out_members_without_2fa(
    administrator_with_sms, administrator_with_sms_client, member
):
    browser = Client()
    browser.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    require_two_factor(administrator_with_sms.organization)

    response = send(administrator_with_sms_client, "POST", SIGN_OUT)

    assert response.json()["data"] == {"members": 1, "sessions": 1}
    assert browser.get("/api/v1/me").status_code == 401
    assert administrator_with_sms_client.get("/api/v1/me").status_code == 200


def test_sign_out_while_2fa_is_not_required_is_a_409(administrator_client):
    response = send(administrator_client, "POST", SIGN_OUT)
    assert response.status_code == 409
    assert errors(response) == [("two_factor_not_required", None)]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", POLICY, None),
        ("PATCH", POLICY, {"require_two_factor": False}),
        ("PATCH", POLICY, {}),
        ("POST", SIGN_OUT, None),
    ],
)
def test_members_get_403(member_client, administrator, method, path, body):
    require_two_factor(administrator.organization, grace_days=3)

    response = send(member_client, method, path, body)

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]
    assert policy_of(administrator.organization) == (True, 3)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", POLICY), ("PATCH", POLICY), ("POST", SIGN_OUT)]
)
def test_anonymous_callers_get_401(db, method, path):
    response = send(Client(), method, path, {})
    assert response.status_code == 401


def test_asvs_7_5_1_security_policy_changes_require_recent_authentication(administrator_with_sms):
    """A PATCH is a 401 naming the re-authentication flow until the administrator confirms the
    password; reading the policy stays open."""
    stale = signed_in(Client(), administrator_with_sms)  # no authentication within 5 minutes
    body = {"require_two_factor": True, "two_factor_grace_days": 7}

    assert stale.get(POLICY).status_code == 200
    refused = send(stale, "PATCH", POLICY, body)

    assert refused.status_code == 401
    assert errors(refused) == [("reauthentication_required", None)]
    assert "/auth/reauthenticate" in refused.json()["errors"][0]["message"]
    assert policy_of(administrator_with_sms.organization) == (False, 0)
    again = send(stale, "POST", "/_allauth/browser/v1/auth/reauthenticate", {"password": PASSWORD})
    assert again.status_code == 200
    assert send(stale, "PATCH", POLICY, body).status_code == 200
    assert policy_of(administrator_with_sms.organization) == (True, 7)
