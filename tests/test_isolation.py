"""Organization isolation: an administrator of one account can neither read nor change another's.

Two accounts, acme (administrator + member) and globex (other_administrator + member), each with
a deactivated member and a pending invitation. Every case runs in both directions.

To extend it when a page or endpoint is added:
- it takes an id of organization data: add ``(method, url template, body)`` to ``ID_CASES``; the
  template names the other account's ids as ``{administrator}``, ``{member}``, ``{deactivated}``
  or ``{invitation}`` (add a field to :class:`Account` for a new kind of object). /api/ paths
  must answer a JSON 404; pages must redirect with an error message. Nothing may change.
- it shows organization data: add its URL to ``LISTING_CASES``; it must show none of the other
  account's names or addresses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import Client

from tests.api.conftest import assert_api_response
from twofold.organizations import flows
from twofold.organizations.models import Invitation, Membership, Organization
from twofold.users.models import User

ID_CASES: list[tuple[str, str, dict[str, str] | None]] = [
    # JSON API
    ("GET", "/api/v1/members/{member}", None),
    ("GET", "/api/v1/members/{administrator}", None),
    ("GET", "/api/v1/members/{deactivated}", None),
    ("PATCH", "/api/v1/members/{member}", {"role": "administrator"}),
    ("PATCH", "/api/v1/members/{administrator}", {"role": "member"}),
    ("POST", "/api/v1/members/{member}/deactivate", None),
    ("POST", "/api/v1/members/{administrator}/deactivate", None),
    ("POST", "/api/v1/members/{deactivated}/reactivate", None),
    ("DELETE", "/api/v1/invitations/{invitation}", None),
    # Pages
    ("POST", "/account/members/{member}/role", {"role": "administrator"}),
    ("POST", "/account/members/{administrator}/role", {"role": "member"}),
    ("POST", "/account/members/{member}/deactivate", None),
    ("POST", "/account/members/{administrator}/deactivate", None),
    ("POST", "/account/members/{deactivated}/reactivate", None),
    ("POST", "/account/invitations/{invitation}/revoke", None),
]

LISTING_CASES: list[str] = [
    "/api/v1/me",
    "/api/v1/organization",
    "/api/v1/members",
    "/api/v1/invitations",
    "/",
    "/settings/security/",
    "/account/",
    "/account/members/",
]


@dataclass
class Account:
    administrator: Membership
    member: Membership
    deactivated: Membership
    invitation: Invitation

    def ids(self) -> dict[str, int]:
        return {
            "administrator": self.administrator.pk,
            "member": self.member.pk,
            "deactivated": self.deactivated.pk,
            "invitation": self.invitation.pk,
        }

    def visible_data(self) -> list[str]:
        """What a page or response could show of this account."""
        people = (self.administrator, self.member, self.deactivated)
        return [
            self.administrator.organization.name,
            self.invitation.email,
            *(m.user.email for m in people),
        ]


def _person(email: str, organization: Organization) -> Membership:
    """A member who never signs in with a password here: no slow password hash to compute."""
    user = User.objects.create_user(email, password=None)
    return Membership.objects.create(user=user, organization=organization)


def _account(administrator: Membership, member: Membership) -> Account:
    domain = administrator.user.email.partition("@")[2]
    deactivated = _person(f"dan@{domain}", administrator.organization)
    flows.deactivate_member(administrator, deactivated.pk)
    invitation = flows.invite_member(administrator, f"ivy@{domain}").invitation
    return Account(administrator, member, deactivated, invitation)


@pytest.fixture
def acme(administrator: Membership, member: Membership) -> Account:
    return _account(administrator, member)


@pytest.fixture
def globex(other_administrator: Membership) -> Account:
    member = _person("bob@globex.test", other_administrator.organization)
    return _account(other_administrator, member)


@pytest.fixture(params=["acme-vs-globex", "globex-vs-acme"])
def accounts(request: pytest.FixtureRequest, acme: Account, globex: Account) -> tuple[Account, ...]:
    """(own account, other account)."""
    return (acme, globex) if request.param == "acme-vs-globex" else (globex, acme)


def signed_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def send(client: Client, method: str, path: str, body: dict[str, str] | None) -> HttpResponse:
    """JSON to /api/ paths, a form to pages."""
    if path.startswith("/api/"):
        data = "" if body is None else json.dumps(body)
        response = client.generic(method, path, data, content_type="application/json")
        assert_api_response(path, response)
        return response
    return client.post(path, body or {}) if method == "POST" else client.generic(method, path)


def snapshot() -> list[Any]:
    """Everything a cross-account request could change."""
    return [
        list(Organization.objects.order_by("pk").values_list("pk", "name", "default_country")),
        list(Membership.objects.order_by("pk").values_list("pk", "organization_id", "role")),
        list(User.objects.order_by("pk").values_list("pk", "email", "is_active", "password")),
        list(
            Invitation.objects.order_by("pk").values_list(
                "pk", "organization_id", "email", "role", "revoked_at", "accepted_at"
            )
        ),
        sorted(Session.objects.values_list("session_key", flat=True)),
    ]


def assert_refused(client: Client, path: str, response: HttpResponse) -> None:
    if path.startswith("/api/"):
        assert response.status_code == 404
        assert [e["code"] for e in response.json()["errors"]] == ["not_found"]
    else:
        assert response.status_code == 302
        assert response["Location"] == "/account/members/"
        page = client.get(response["Location"]).content.decode()
        assert 'class="alert error"' in page
        assert "There is no such" in page


def assert_reached(client: Client, path: str, response: HttpResponse) -> None:
    """Answered by the flow (success or a rule such as last_administrator), not "no such"."""
    if path.startswith("/api/"):
        assert response.status_code != 404
    else:
        assert response.status_code == 302
        assert "There is no such" not in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("method", "template", "body"), ID_CASES)
def test_administrator_cannot_reach_another_accounts_objects(
    accounts: tuple[Account, Account],
    method: str,
    template: str,
    body: dict[str, str] | None,
) -> None:
    own, other = accounts
    client = signed_in(own.administrator)
    before = snapshot()

    attack = template.format(**other.ids())
    assert_refused(client, attack, send(client, method, attack, body))
    assert snapshot() == before

    # The control: the same request reaches the own account's object, so the case is well-formed.
    control = template.format(**own.ids())
    assert_reached(client, control, send(client, method, control, body))


@pytest.mark.parametrize("url", LISTING_CASES)
@pytest.mark.parametrize("role", ["administrator", "member"])
def test_nothing_of_another_account_is_shown(
    accounts: tuple[Account, Account], url: str, role: str
) -> None:
    own, other = accounts
    client = signed_in(getattr(own, role))

    response = client.get(url)
    if url.startswith("/api/"):
        assert_api_response(url, response)

    assert response.status_code in (200, 403)
    content = response.content.decode()
    for data in other.visible_data():
        assert data not in content, f"{url} shows {data!r} of the other account"
    if response.status_code == 200:
        assert any(data in content for data in own.visible_data()), f"{url} shows nothing"


def test_invitation_lists_show_only_the_own_accounts_invitations(
    accounts: tuple[Account, Account],
) -> None:
    own, _ = accounts

    listed = signed_in(own.administrator).get("/api/v1/invitations").json()["data"]

    assert [i["id"] for i in listed] == [own.invitation.pk]
    assert flows.list_invitations(own.administrator) == [own.invitation]


def test_member_lists_show_only_the_own_accounts_members(
    accounts: tuple[Account, Account],
) -> None:
    own, _ = accounts
    expected = sorted([own.administrator.pk, own.member.pk, own.deactivated.pk])

    listed = signed_in(own.administrator).get("/api/v1/members").json()["data"]

    assert sorted(m["id"] for m in listed) == expected
    assert sorted(m.pk for m in flows.list_members(own.member)) == expected
