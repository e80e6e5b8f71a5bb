"""The one freshness rule (sessions/freshness.py, factors/binding.py; ASVS 7.5.1), proved once for
both surfaces: every change that needs a recent authentication, on its page and at its endpoint.

- A stale session (its authentication older than ``ACCOUNT_REAUTHENTICATION_TIMEOUT``, or none
  recorded at all) changes nothing: the page leads to allauth's re-authentication page and back,
  the endpoint answers 401 ``reauthentication_required`` naming ``/auth/reauthenticate`` (or, to
  bind a factor beside another, ``/auth/2fa/reauthenticate``).
- Binding a factor beside one the member has, after only a fresh password, needs that factor too
  (aal2): the page leads to ``/accounts/2fa/reauthenticate/`` and back, the endpoint's 401 names
  ``/auth/2fa/reauthenticate``. A first factor needs only the fresh password.
- Right after signing in, every change goes through on both surfaces.

The web/ and api/ adapters (``@fresh``, ``@fresh_to_bind``, ``Call.require_fresh()``,
``Call.require_fresh_to_bind()``) only translate the rule's refusal; a change that forgot them
fails here on one surface.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.conftest import (
    PASSWORD,
    age_authentication,
    freshly_signed_in,
    give_sms_factor,
    give_totp_factor,
    signed_in,
)
from tests.factors.webauthn.test_flows import give_key
from twofold.factors import member_factors, policy
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.factors.totp import flows as totp_flows
from twofold.factors.webauthn import flows as webauthn_flows
from twofold.organizations.models import Membership, Organization

PAGE, API = "page", "api"
SURFACES = [PAGE, API]
REAUTHENTICATE = "/accounts/reauthenticate/"
REAUTHENTICATE_WITH_A_SECOND_FACTOR = "/accounts/2fa/reauthenticate/"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One change on both surfaces, arranged for its actor."""

    actor: Membership
    factor: str | None  # the actor's second factor, confirmed at a fresh sign-in
    page: Request
    api: Request
    state: Callable[[Client], object]  # what the change changes (the actor's browser at hand)
    beside: bool = False  # binds a factor beside one the actor has: aal2

    def send(self, client: Client, surface: str) -> HttpResponse:
        if surface == PAGE:
            if self.page.method == "GET":
                return client.get(self.page.path)
            return client.post(self.page.path, self.page.data)
        body = json.dumps(self.api.data) if self.api.data else ""
        return client.generic(self.api.method, self.api.path, body, content_type="application/json")

    def path(self, surface: str) -> str:
        return self.page.path if surface == PAGE else self.api.path


Arrange = Callable[[Membership, Membership], Change]  # (administrator, member) -> the change


def methods_of(membership: Membership) -> Callable[[Client], object]:
    return lambda client: member_factors.methods(membership.user)


def pending_number_of(membership: Membership) -> Callable[[Client], object]:
    return lambda client: PendingSmsEnrollment.objects.filter(user=membership.user).exists()


def app_set_up_in(client: Client) -> object:
    return totp_flows.SESSION_KEY in client.session


NUMBER = {"country": "CH", "phone": "079 123 45 67"}
NEW_NUMBER = {"country": "CH", "phone": "078 111 22 33"}


# --- Changes that need a recent authentication (any factor) ------------------------------------


def turning_two_factor_off(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    return Change(
        member,
        "sms",
        Request("POST", "/settings/security/2fa/disable/"),
        Request("DELETE", "/api/v1/two-factor"),
        methods_of(member),
    )


def new_backup_codes(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    return Change(
        member,
        "sms",
        Request("POST", "/settings/security/2fa/backup-codes/new/"),
        Request("POST", "/api/v1/two-factor/backup-codes/regenerate"),
        lambda client: set(BackupCode.objects.filter(user=member.user, active=True)),
    )


def removing_a_factor(administrator: Membership, member: Membership) -> Change:
    give_totp_factor(member)
    give_sms_factor(member)
    return Change(
        member,
        "totp",
        Request("POST", "/settings/security/2fa/totp/remove/"),
        Request("DELETE", "/api/v1/two-factor/totp"),
        methods_of(member),
    )


def removing_a_security_key(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    give_key(member.user)
    [key] = webauthn_flows.keys(member.user)
    return Change(
        member,
        "sms",
        Request("POST", f"/settings/security/2fa/webauthn/{key.id}/remove/"),
        Request("DELETE", f"/api/v1/two-factor/webauthn/{key.id}"),
        lambda client: [k.id for k in webauthn_flows.keys(member.user)],
    )


def the_accounts_two_factor_requirement(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(administrator, "+41791110000")  # requiring 2FA needs one's own first

    def requirement(client: Client) -> object:
        saved = Organization.objects.get(pk=administrator.organization_id)
        return saved.require_two_factor, saved.two_factor_grace_days

    return Change(
        administrator,
        "sms",
        Request(
            "POST", "/account/security/", {"require_two_factor": "on", "two_factor_grace_days": "7"}
        ),
        Request(
            "PATCH",
            "/api/v1/organization/security",
            {"require_two_factor": True, "two_factor_grace_days": 7},
        ),
        requirement,
    )


def the_accounts_allowed_methods(administrator: Membership, member: Membership) -> Change:
    return Change(
        administrator,
        None,
        Request(
            "POST",
            "/account/security/",
            {
                "two_factor_grace_days": "0",
                "method_policy": "1",
                "allowed_two_factor_methods": ["totp"],
            },
        ),
        Request("PATCH", "/api/v1/organization/security", {"allowed_two_factor_methods": ["totp"]}),
        lambda client: policy.allowed_methods_of(
            Organization.objects.get(pk=administrator.organization_id)
        ),
    )


def resetting_a_members_two_factor(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    return Change(
        administrator,
        None,
        Request("POST", f"/account/members/{member.pk}/reset-two-factor"),
        Request("POST", f"/api/v1/members/{member.pk}/reset-two-factor"),
        methods_of(member),
    )


# --- Binding a factor beside another (aal2) -----------------------------------------------------


def a_number_beside_an_app(administrator: Membership, member: Membership) -> Change:
    give_totp_factor(member)
    return Change(
        member,
        "totp",
        Request("POST", "/settings/security/2fa/enable/", NUMBER),
        Request("POST", "/api/v1/two-factor/sms", NUMBER),
        pending_number_of(member),
        beside=True,
    )


def an_app_beside_sms(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    return Change(
        member,
        "sms",
        Request("GET", "/settings/security/2fa/totp/"),
        Request("POST", "/api/v1/two-factor/totp"),
        app_set_up_in,
        beside=True,
    )


def a_new_number(administrator: Membership, member: Membership) -> Change:
    give_sms_factor(member)
    return Change(
        member,
        "sms",
        Request("POST", "/settings/security/2fa/change-number/", NEW_NUMBER),
        Request("POST", "/api/v1/two-factor/sms", NEW_NUMBER),
        pending_number_of(member),
        beside=True,
    )


# --- A first factor (a recent password is enough) -----------------------------------------------


def a_first_number(administrator: Membership, member: Membership) -> Change:
    return Change(
        member,
        None,
        Request("POST", "/settings/security/2fa/enable/", NUMBER),
        Request("POST", "/api/v1/two-factor/sms", NUMBER),
        pending_number_of(member),
    )


def a_first_app(administrator: Membership, member: Membership) -> Change:
    return Change(
        member,
        None,
        Request("GET", "/settings/security/2fa/totp/"),
        Request("POST", "/api/v1/two-factor/totp"),
        app_set_up_in,
    )


CHANGES = [
    pytest.param(turning_two_factor_off, id="turning-2fa-off"),
    pytest.param(new_backup_codes, id="new-backup-codes"),
    pytest.param(removing_a_factor, id="removing-a-factor"),
    pytest.param(removing_a_security_key, id="removing-a-security-key"),
    pytest.param(the_accounts_two_factor_requirement, id="the-accounts-2fa-requirement"),
    pytest.param(the_accounts_allowed_methods, id="the-accounts-allowed-methods"),
    pytest.param(resetting_a_members_two_factor, id="resetting-a-members-2fa"),
]
BINDINGS = [
    pytest.param(a_number_beside_an_app, id="a-number-beside-an-app"),
    pytest.param(an_app_beside_sms, id="an-app-beside-sms"),
    pytest.param(a_new_number, id="a-new-number"),
]
FIRST_FACTORS = [
    pytest.param(a_first_number, id="a-first-number"),
    pytest.param(a_first_app, id="a-first-app"),
]


# --- Sessions -----------------------------------------------------------------------------------


def signed_in_long_ago(change: Change) -> Client:
    """Signed in (with the second factor, if any) longer ago than the window."""
    return age_authentication(
        freshly_signed_in(Client(), change.actor, second_factor=change.factor)
    )


def signed_in_without_a_record(change: Change) -> Client:
    """A session that recorded no authentication (an old one, say): never fresh."""
    return signed_in(Client(), change.actor)


def signed_in_with_the_password_only(change: Change) -> Client:
    return freshly_signed_in(Client(), change.actor)


def password_again_after_an_old_second_factor(change: Change) -> Client:
    """Signed in with both factors long ago; the password confirmed again just now."""
    client = signed_in_long_ago(change)
    assert client.post(REAUTHENTICATE, {"password": PASSWORD}).status_code == 302
    return client


def signed_in_just_now(change: Change) -> Client:
    return freshly_signed_in(Client(), change.actor, second_factor=change.factor)


# --- The rule -----------------------------------------------------------------------------------


def refused(response: HttpResponse, change: Change, surface: str, *, second_factor: bool) -> None:
    path = change.path(surface)
    if surface == PAGE:
        assert response.status_code == 302, response.content[:300]
        if second_factor:
            expected = f"{REAUTHENTICATE_WITH_A_SECOND_FACTOR}?{urlencode({'next': path})}"
        else:
            expected = f"{REAUTHENTICATE}?next={quote(path, safe='')}"
        assert response["Location"] == expected
        return
    assert response.status_code == 401, response.content[:300]
    [error] = response.json()["errors"]
    assert error["code"] == "reauthentication_required"
    where = "/auth/2fa/reauthenticate" if second_factor else "/auth/reauthenticate"
    assert where in error["message"]


def allowed(response: HttpResponse, surface: str) -> None:
    if surface == API:
        assert response.status_code in (200, 202), response.content[:300]
        return
    assert response.status_code in (200, 302), response.content[:300]
    if response.status_code == 302:
        assert not response["Location"].startswith("/accounts/"), response["Location"]


@pytest.mark.parametrize(
    "stale", [signed_in_long_ago, signed_in_without_a_record], ids=["long-ago", "no-record"]
)
@pytest.mark.parametrize("arrange", CHANGES + BINDINGS + FIRST_FACTORS)
@pytest.mark.parametrize("surface", SURFACES)
def test_asvs_7_5_1_a_stale_session_cannot_change_two_factor_authentication(
    administrator: Membership,
    member: Membership,
    surface: str,
    arrange: Arrange,
    stale: Callable[[Change], Client],
) -> None:
    change = arrange(administrator, member)
    client = stale(change)
    before = change.state(client)

    response = change.send(client, surface)

    # To bind beside a factor, the endpoint names the second factor's re-authentication at once
    # (it alone is fresh enough); the page asks for the password first, then for that factor.
    refused(response, change, surface, second_factor=surface == API and change.beside)
    assert change.state(client) == before


@pytest.mark.parametrize(
    "password_only",
    [signed_in_with_the_password_only, password_again_after_an_old_second_factor],
    ids=["password-only", "password-again"],
)
@pytest.mark.parametrize("arrange", BINDINGS)
@pytest.mark.parametrize("surface", SURFACES)
def test_binding_a_factor_beside_another_needs_a_second_factor(
    administrator: Membership,
    member: Membership,
    surface: str,
    arrange: Arrange,
    password_only: Callable[[Change], Client],
) -> None:
    """A stolen password alone must not bind the thief's factor (DESIGN.md: a new number is
    binding a new factor, at aal2)."""
    change = arrange(administrator, member)
    client = password_only(change)
    before = change.state(client)

    response = change.send(client, surface)

    refused(response, change, surface, second_factor=True)
    assert change.state(client) == before


@pytest.mark.parametrize("arrange", FIRST_FACTORS)
@pytest.mark.parametrize("surface", SURFACES)
def test_binding_a_first_factor_needs_only_a_fresh_password(
    administrator: Membership, member: Membership, surface: str, arrange: Arrange
) -> None:
    change = arrange(administrator, member)
    client = signed_in_with_the_password_only(change)
    before = change.state(client)

    allowed(change.send(client, surface), surface)
    assert change.state(client) != before


@pytest.mark.parametrize("arrange", CHANGES + BINDINGS)
@pytest.mark.parametrize("surface", SURFACES)
def test_asvs_7_5_1_right_after_signing_in_every_change_goes_through(
    administrator: Membership, member: Membership, surface: str, arrange: Arrange
) -> None:
    change = arrange(administrator, member)
    client = signed_in_just_now(change)
    before = change.state(client)

    allowed(change.send(client, surface), surface)
    assert change.state(client) != before
