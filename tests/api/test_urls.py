"""Twofold's JSON API under /api/v1/ (api/urls.py) and its place in the served OpenAPI spec."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.conftest import PASSWORD
from twofold import clock
from twofold.api.spec import concrete_paths
from twofold.api.unserved import not_served
from twofold.organizations import flows
from twofold.organizations.flows import IssuedInvitation
from twofold.organizations.models import Invitation, Membership, Organization, Role
from twofold.users.models import User

NEW_PASSWORD = "a long and unusual passphrase 42"
INVITEE = "carol@example.test"
UNKNOWN_ID = 999_999


def send(client: Client, method: str, path: str, body: Any = None, **headers: str) -> HttpResponse:
    """``body``: a dict or list is sent as JSON, a str or bytes as it is."""
    data = body if isinstance(body, str | bytes) else json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json", headers=headers)


def error_codes(response: HttpResponse) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


@pytest.fixture
def invitation(administrator: Membership) -> IssuedInvitation:
    return flows.invite_member(administrator, INVITEE)


@pytest.fixture
def app_client(administrator: Membership) -> Client:
    """An app (not a browser) signed in as the administrator: X-Session-Token, no cookie."""
    response = send(
        Client(),
        "POST",
        "/_allauth/app/v1/auth/login",
        {"email": administrator.user.email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.content
    return Client(
        enforce_csrf_checks=True,
        headers={"X-Session-Token": response.json()["meta"]["session_token"]},
    )


@pytest.fixture
def csrf_administrator_client(administrator: Membership) -> Client:
    """A browser signed in as the administrator that, like a real one, checks CSRF tokens."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(administrator.user)
    return browser


def csrf_token(browser: Client) -> str:
    browser.get("/")  # a page with a form sets the CSRF cookie
    return browser.cookies[settings.CSRF_COOKIE_NAME].value


def database_state() -> list[Any]:
    """What an API call could change: roles, activity, names, invitations."""
    return [
        list(Membership.objects.order_by("pk").values_list("pk", "role", "organization_id")),
        list(User.objects.order_by("pk").values_list("pk", "email", "is_active")),
        list(Organization.objects.order_by("pk").values_list("pk", "name")),
        list(
            Invitation.objects.order_by("pk").values_list(
                "pk", "email", "revoked_at", "accepted_at"
            )
        ),
    ]


# --- /me ----------------------------------------------------------------------------------------


def test_me_describes_the_member_and_how_they_signed_in(member: Membership) -> None:
    browser = Client()
    browser.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})

    response = browser.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "status": 200,
        "data": {
            "user": {"id": member.user.pk, "email": "bob@acme.test"},
            "organization": {
                "id": member.organization.pk,
                "name": member.organization.name,
            },
            "role": "member",
            "amr": ["pwd"],
            "aal": "aal1",
        },
    }


def test_me_works_for_an_app_with_its_session_token(
    administrator: Membership, app_client: Client
) -> None:
    data = app_client.get("/api/v1/me").json()["data"]

    assert data["user"]["email"] == administrator.user.email
    assert data["role"] == "administrator"
    assert data["amr"] == ["pwd"]
    assert data["aal"] == "aal1"


# --- Happy paths --------------------------------------------------------------------------------


@pytest.fixture(params=["administrator", "member"])
def any_member_client(request: pytest.FixtureRequest) -> Client:
    return request.getfixturevalue(f"{request.param}_client")


def test_organization_is_readable_by_every_member(
    administrator: Membership, any_member_client: Client
) -> None:
    response = any_member_client.get("/api/v1/organization")

    assert response.json()["data"] == {
        "id": administrator.organization.pk,
        "name": "acme.test Inc.",
        "default_country": "CH",
        "default_language": None,
    }


def test_administrator_renames_the_organization(administrator_client: Client) -> None:
    response = send(administrator_client, "PATCH", "/api/v1/organization", {"name": " Acme AG "})

    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Acme AG"
    assert Organization.objects.get().name == "Acme AG"


def test_members_lists_the_people_of_the_account(
    member: Membership, other_administrator: Membership, any_member_client: Client
) -> None:
    data = any_member_client.get("/api/v1/members").json()["data"]

    assert [m["email"] for m in data] == ["ada@acme.test", "bob@acme.test"]
    assert set(data[1]) == {
        *("id", "email", "name", "role", "is_active", "joined_at", "last_login", "two_factor")
    }


def test_member_detail_shows_one_member(member: Membership, any_member_client: Client) -> None:
    response = any_member_client.get(f"/api/v1/members/{member.pk}")

    assert response.json()["data"]["id"] == member.pk
    assert response.json()["data"]["role"] == "member"


def test_administrator_changes_a_members_role(
    member: Membership, administrator_client: Client
) -> None:
    response = send(
        administrator_client, "PATCH", f"/api/v1/members/{member.pk}", {"role": "administrator"}
    )

    assert response.status_code == 200
    assert response.json()["data"]["role"] == "administrator"
    assert Membership.objects.get(pk=member.pk).role == Role.ADMINISTRATOR


def test_administrator_deactivates_and_reactivates_a_member(
    member: Membership, administrator_client: Client
) -> None:
    response = send(administrator_client, "POST", f"/api/v1/members/{member.pk}/deactivate")
    assert response.json()["data"]["is_active"] is False
    assert not User.objects.get(pk=member.user.pk).is_active

    response = send(administrator_client, "POST", f"/api/v1/members/{member.pk}/reactivate")
    assert response.json()["data"]["is_active"] is True
    assert User.objects.get(pk=member.user.pk).is_active


@pytest.mark.parametrize(
    ("body", "role"),
    [
        ({"email": INVITEE}, "member"),
        ({"email": INVITEE, "role": "administrator"}, "administrator"),
    ],
)
def test_administrator_invites_by_email(
    administrator_client: Client, body: dict[str, str], role: str
) -> None:
    response = send(administrator_client, "POST", "/api/v1/invitations", body)

    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["email"], data["role"]) == (INVITEE, role)
    assert set(data) == {"id", "email", "role", "created_at", "expires_at"}
    assert mail.outbox[0].to == [INVITEE]
    listed = administrator_client.get("/api/v1/invitations").json()["data"]
    assert [i["id"] for i in listed] == [data["id"]]


def test_administrator_withdraws_an_invitation(
    invitation: IssuedInvitation, administrator_client: Client
) -> None:
    response = send(
        administrator_client, "DELETE", f"/api/v1/invitations/{invitation.invitation.pk}"
    )

    assert response.status_code == 204
    assert administrator_client.get("/api/v1/invitations").json()["data"] == []
    assert Invitation.objects.get().revoked_at is not None


def test_invitation_can_be_looked_up_by_its_token(
    administrator: Membership, invitation: IssuedInvitation
) -> None:
    response = Client().get("/api/v1/invitations/accept", {"token": invitation.token})

    assert response.json()["data"] == {
        "email": INVITEE,
        "organization": administrator.organization.name,
        "expires_at": invitation.invitation.expires_at.isoformat(),
    }


def test_invitation_is_accepted_and_the_new_member_signs_in(
    administrator: Membership, invitation: IssuedInvitation
) -> None:
    response = send(
        Client(),
        "POST",
        "/api/v1/invitations/accept",
        {"token": invitation.token, "password": NEW_PASSWORD, "name": "Carol"},
    )

    assert response.status_code == 201
    assert response.json()["data"] == {"email": INVITEE}
    login = send(
        Client(),
        "POST",
        "/_allauth/app/v1/auth/login",
        {"email": INVITEE, "password": NEW_PASSWORD},
    )
    assert login.status_code == 200
    assert User.objects.get(email=INVITEE).membership.organization == administrator.organization


# --- 401: anonymous -----------------------------------------------------------------------------

AUTHENTICATED_ENDPOINTS = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/organization"),
    ("PATCH", "/api/v1/organization"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/members/{member}"),
    ("PATCH", "/api/v1/members/{member}"),
    ("POST", "/api/v1/members/{member}/deactivate"),
    ("POST", "/api/v1/members/{member}/reactivate"),
    ("POST", "/api/v1/members/{member}/reset-two-factor"),
    ("GET", "/api/v1/invitations"),
    ("POST", "/api/v1/invitations"),
    ("DELETE", "/api/v1/invitations/{invitation}"),
]


@pytest.mark.parametrize(("method", "template"), AUTHENTICATED_ENDPOINTS)
@pytest.mark.parametrize("credential", ["none", "unknown-session-token"])
def test_anonymous_caller_gets_401(
    member: Membership,
    invitation: IssuedInvitation,
    method: str,
    template: str,
    credential: str,
) -> None:
    path = template.format(member=member.pk, invitation=invitation.invitation.pk)
    headers = {"X-Session-Token": "not-a-session"} if credential != "none" else {}
    before = database_state()

    response = send(Client(), method, path, {"role": "administrator"}, **headers)

    assert response.status_code == 401
    assert error_codes(response) == [("not_authenticated", None)]
    assert database_state() == before


# --- 403: members on administrator endpoints ----------------------------------------------------

ADMINISTRATOR_ENDPOINTS = [
    ("PATCH", "/api/v1/organization", {"name": "Taken over"}),
    ("PATCH", "/api/v1/members/{administrator}", {"role": "member"}),
    ("PATCH", "/api/v1/members/{member}", {"role": "administrator"}),
    ("POST", "/api/v1/members/{administrator}/deactivate", None),
    ("POST", "/api/v1/members/{member}/reactivate", None),
    ("POST", "/api/v1/members/{administrator}/reset-two-factor", None),
    ("GET", "/api/v1/members?two_factor=off", None),
    ("GET", "/api/v1/invitations", None),
    ("POST", "/api/v1/invitations", {"email": "eve@example.test", "role": "administrator"}),
    ("DELETE", "/api/v1/invitations/{invitation}", None),
]


@pytest.mark.parametrize(("method", "template", "body"), ADMINISTRATOR_ENDPOINTS)
@pytest.mark.parametrize("valid_body", [True, False], ids=["valid-body", "empty-body"])
def test_member_gets_403_on_administrator_endpoints(
    administrator: Membership,
    member: Membership,
    invitation: IssuedInvitation,
    member_client: Client,
    method: str,
    template: str,
    body: dict[str, str] | None,
    valid_body: bool,
) -> None:
    path = template.format(
        administrator=administrator.pk, member=member.pk, invitation=invitation.invitation.pk
    )
    before = database_state()

    response = send(member_client, method, path, body if valid_body else {})

    assert response.status_code == 403
    assert error_codes(response) == [("forbidden", None)]
    assert database_state() == before
    assert len(mail.outbox) == 1  # only the fixture's invitation


# --- 400: bad input -----------------------------------------------------------------------------

INVITE = ("POST", "/api/v1/invitations")
CHANGE_ROLE = ("PATCH", "/api/v1/members/{member}")
RENAME = ("PATCH", "/api/v1/organization")

BAD_INPUT = {
    "invalid-email": (*INVITE, {"email": "not-an-email"}, ("invalid", "email")),
    "email-not-a-string": (*INVITE, {"email": [INVITEE]}, ("wrong_type", "email")),
    "missing-email": (*INVITE, {"role": "member"}, ("required", "email")),
    "invite-unknown-role": (
        *INVITE,
        {"email": INVITEE, "role": "owner"},
        ("invalid_choice", "role"),
    ),
    "unknown-role": (*CHANGE_ROLE, {"role": "owner"}, ("invalid_choice", "role")),
    "missing-role": (*CHANGE_ROLE, {}, ("required", "role")),
    "empty-name": (*RENAME, {"name": ""}, ("required", "name")),
    "long-name": (*RENAME, {"name": "x" * 101}, ("max_length", "name")),
    "non-json": (*INVITE, "email=carol@example.test", ("invalid_json", None)),
    "not-utf8": (*INVITE, b"\xff\xfe", ("invalid_json", None)),
    "json-array": (*INVITE, [{"email": INVITEE}], ("invalid_json", None)),
    "json-string": (*RENAME, '"Acme"', ("invalid_json", None)),
    "json-null": (*CHANGE_ROLE, "null", ("invalid_json", None)),
    "deeply-nested": (*RENAME, "[" * 10_000, ("invalid_json", None)),
}


@pytest.mark.parametrize(
    ("method", "template", "body", "expected"), list(BAD_INPUT.values()), ids=list(BAD_INPUT)
)
def test_bad_input_is_a_400_naming_the_code_and_param(
    member: Membership,
    administrator_client: Client,
    method: str,
    template: str,
    body: Any,
    expected: tuple[str, str | None],
) -> None:
    before = database_state()

    response = send(administrator_client, method, template.format(member=member.pk), body)

    assert response.status_code == 400
    assert expected in error_codes(response)
    assert database_state() == before
    assert not mail.outbox


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"password": NEW_PASSWORD}, ("required", "token")),
        ({"token": 42, "password": NEW_PASSWORD}, ("required", "token")),
        ({"token": "{token}"}, ("required", "password")),
        ({"token": "{token}", "password": "qwertyuiop"}, ("password_invalid", "password")),
        ({"token": "{token}", "password": "Twofold2024"}, ("password_invalid", "password")),
    ],
)
def test_accepting_with_bad_input_is_a_400_and_creates_nobody(
    invitation: IssuedInvitation, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    body = {
        k: v.format(token=invitation.token) if isinstance(v, str) else v for k, v in body.items()
    }

    response = send(Client(), "POST", "/api/v1/invitations/accept", body)

    assert response.status_code == 400
    assert expected in error_codes(response)
    assert not User.objects.filter(email=INVITEE).exists()


def test_invitation_lookup_without_token_is_a_400(db: Any) -> None:
    response = Client().get("/api/v1/invitations/accept")

    assert response.status_code == 400
    assert error_codes(response) == [("required", "token")]


@pytest.mark.parametrize("size", [64 * 1024 + 1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1])
def test_oversized_body_is_a_413(administrator_client: Client, size: int) -> None:
    body = json.dumps({"email": INVITEE, "padding": "x" * size})

    response = send(administrator_client, "POST", "/api/v1/invitations", body)

    assert response.status_code == 413
    assert error_codes(response) == [("too_large", None)]
    assert not Invitation.objects.exists()


# --- 404 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/members/{UNKNOWN_ID}"),
        ("PATCH", f"/api/v1/members/{UNKNOWN_ID}"),
        ("POST", f"/api/v1/members/{UNKNOWN_ID}/deactivate"),
        ("POST", f"/api/v1/members/{UNKNOWN_ID}/reactivate"),
        ("DELETE", f"/api/v1/invitations/{UNKNOWN_ID}"),
    ],
)
def test_unknown_ids_are_a_404(administrator_client: Client, method: str, path: str) -> None:
    response = send(administrator_client, method, path, {"role": "member"})

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_withdrawn_invitation_cannot_be_withdrawn_again(
    invitation: IssuedInvitation, administrator_client: Client
) -> None:
    path = f"/api/v1/invitations/{invitation.invitation.pk}"
    send(administrator_client, "DELETE", path)

    assert send(administrator_client, "DELETE", path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here",
        "/api/v1/me/",
        "/api/v1/members/1/promote",
        "/api/v1/members/abc",
        "/api/v2/me",
        "/api/",
    ],
)
@pytest.mark.parametrize("signed_in", [True, False])
def test_unknown_api_paths_are_a_json_404(
    administrator_client: Client, path: str, signed_in: bool
) -> None:
    response = (administrator_client if signed_in else Client()).get(path)

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]


def test_unknown_invitation_token_is_a_404(db: Any) -> None:
    response = Client().get("/api/v1/invitations/accept", {"token": "not-a-token"})

    assert response.status_code == 404
    assert error_codes(response) == [("invitation_invalid", None)]


# --- 405 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/api/v1/me", "GET"),
        ("DELETE", "/api/v1/me", "GET"),
        ("POST", "/api/v1/organization", "GET, PATCH"),
        ("DELETE", "/api/v1/organization", "GET, PATCH"),
        ("POST", "/api/v1/members", "GET"),
        ("DELETE", "/api/v1/members/1", "GET, PATCH"),
        ("PUT", "/api/v1/members/1", "GET, PATCH"),
        ("GET", "/api/v1/members/1/deactivate", "POST"),
        ("GET", "/api/v1/members/1/reactivate", "POST"),
        ("GET", "/api/v1/members/1/reset-two-factor", "POST"),
        ("DELETE", "/api/v1/invitations", "GET, POST"),
        ("GET", "/api/v1/invitations/1", "DELETE"),
        ("PATCH", "/api/v1/invitations/1", "DELETE"),
        ("DELETE", "/api/v1/invitations/accept", "GET, POST"),
    ],
)
def test_wrong_method_is_a_405(
    administrator_client: Client, method: str, path: str, allowed: str
) -> None:
    before = database_state()

    response = send(administrator_client, method, path, {"role": "member"})

    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert error_codes(response) == [("method_not_allowed", None)]
    assert database_state() == before


# --- 409 and 410 --------------------------------------------------------------------------------


def test_inviting_an_existing_user_is_a_409(
    member: Membership, other_administrator: Membership, administrator_client: Client
) -> None:
    for email in (member.user.email, other_administrator.user.email.upper()):
        response = send(administrator_client, "POST", "/api/v1/invitations", {"email": email})

        assert response.status_code == 409
        assert error_codes(response) == [("email_taken", "email")]
    assert not Invitation.objects.exists()


def test_demoting_the_last_administrator_is_a_409(
    administrator: Membership, administrator_client: Client
) -> None:
    response = send(
        administrator_client, "PATCH", f"/api/v1/members/{administrator.pk}", {"role": "member"}
    )

    assert response.status_code == 409
    assert error_codes(response) == [("last_administrator", None)]
    assert Membership.objects.get(pk=administrator.pk).role == Role.ADMINISTRATOR


def test_deactivating_yourself_is_a_409(
    administrator: Membership, administrator_client: Client
) -> None:
    response = send(administrator_client, "POST", f"/api/v1/members/{administrator.pk}/deactivate")

    assert response.status_code == 409
    assert error_codes(response) == [("cannot_deactivate_self", None)]
    assert User.objects.get(pk=administrator.user.pk).is_active


def test_accepting_for_an_email_that_meanwhile_has_an_account_is_a_409(
    invitation: IssuedInvitation, make_member: Callable[..., Membership]
) -> None:
    make_member(INVITEE)

    response = send(
        Client(),
        "POST",
        "/api/v1/invitations/accept",
        {"token": invitation.token, "password": NEW_PASSWORD},
    )

    assert response.status_code == 409
    assert error_codes(response) == [("email_taken", None)]


def _expire(invitation: IssuedInvitation) -> None:
    Invitation.objects.filter(pk=invitation.invitation.pk).update(
        expires_at=clock.now() - timedelta(seconds=1)
    )


def _accept(invitation: IssuedInvitation) -> None:
    flows.accept_invitation(invitation.token, NEW_PASSWORD)


def _withdraw(invitation: IssuedInvitation) -> None:
    Invitation.objects.filter(pk=invitation.invitation.pk).update(revoked_at=clock.now())


@pytest.mark.parametrize(
    "spoil", [_expire, _accept, _withdraw], ids=["expired", "used", "withdrawn"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_spent_invitation_is_a_410(
    invitation: IssuedInvitation, spoil: Callable[[IssuedInvitation], None], method: str
) -> None:
    spoil(invitation)
    users_before = User.objects.count()

    if method == "GET":
        response = Client().get("/api/v1/invitations/accept", {"token": invitation.token})
    else:
        body = {"token": invitation.token, "password": "another long passphrase 43"}
        response = send(Client(), "POST", "/api/v1/invitations/accept", body)

    assert response.status_code == 410
    assert error_codes(response) == [("invitation_expired", None)]
    assert User.objects.count() == users_before


# --- CSRF and app sessions ----------------------------------------------------------------------

WRITES = [
    ("PATCH", "/api/v1/organization", {"name": "Forged"}),
    ("PATCH", "/api/v1/members/{member}", {"role": "administrator"}),
    ("POST", "/api/v1/members/{member}/deactivate", None),
    ("POST", "/api/v1/members/{member}/reactivate", None),
    ("POST", "/api/v1/invitations", {"email": "eve@example.test"}),
    ("DELETE", "/api/v1/invitations/{invitation}", None),
]


def _path(template: str, member: Membership, invitation: IssuedInvitation) -> str:
    return template.format(member=member.pk, invitation=invitation.invitation.pk)


@pytest.mark.parametrize(("method", "template", "body"), WRITES)
def test_cookie_authenticated_write_without_csrf_token_is_refused(
    member: Membership,
    invitation: IssuedInvitation,
    csrf_administrator_client: Client,
    method: str,
    template: str,
    body: Any,
) -> None:
    before = database_state()

    response = send(csrf_administrator_client, method, _path(template, member, invitation), body)

    assert response.status_code == 403
    assert error_codes(response) == [("csrf_failed", None)]
    assert database_state() == before


@pytest.mark.parametrize(("method", "template", "body"), WRITES)
def test_cookie_authenticated_write_with_csrf_token_works(
    member: Membership,
    invitation: IssuedInvitation,
    csrf_administrator_client: Client,
    method: str,
    template: str,
    body: Any,
) -> None:
    token = csrf_token(csrf_administrator_client)

    response = send(
        csrf_administrator_client,
        method,
        _path(template, member, invitation),
        body,
        X_CSRFToken=token,
    )

    assert response.status_code in (200, 201, 204)


def test_cookie_authenticated_write_with_a_wrong_csrf_token_is_refused(
    csrf_administrator_client: Client,
) -> None:
    csrf_token(csrf_administrator_client)

    response = send(
        csrf_administrator_client,
        "PATCH",
        "/api/v1/organization",
        {"name": "Forged"},
        X_CSRFToken="x" * 32,
    )

    assert error_codes(response) == [("csrf_failed", None)]


def test_cookie_authenticated_accept_without_csrf_token_is_refused(
    invitation: IssuedInvitation, csrf_administrator_client: Client
) -> None:
    body = {"token": invitation.token, "password": NEW_PASSWORD}

    response = send(csrf_administrator_client, "POST", "/api/v1/invitations/accept", body)

    assert error_codes(response) == [("csrf_failed", None)]
    assert not User.objects.filter(email=INVITEE).exists()


def test_reads_need_no_csrf_token(csrf_administrator_client: Client) -> None:
    assert csrf_administrator_client.get("/api/v1/members").status_code == 200


@pytest.mark.parametrize(("method", "template", "body"), WRITES)
def test_app_session_token_writes_need_no_csrf_token(
    member: Membership,
    invitation: IssuedInvitation,
    app_client: Client,
    method: str,
    template: str,
    body: Any,
) -> None:
    response = send(app_client, method, _path(template, member, invitation), body)

    assert response.status_code in (200, 201, 204)


def test_a_session_token_header_never_falls_back_to_the_cookie(
    csrf_administrator_client: Client,
) -> None:
    # A forged cross-site request cannot dodge the CSRF check by adding a bogus token header.
    response = send(
        csrf_administrator_client,
        "PATCH",
        "/api/v1/organization",
        {"name": "Forged"},
        X_Session_Token="bogus",
    )

    assert response.status_code == 401
    assert Organization.objects.get().name != "Forged"


def test_app_session_token_ends_at_logout(app_client: Client) -> None:
    assert app_client.delete("/_allauth/app/v1/auth/session").status_code == 401

    assert app_client.get("/api/v1/me").status_code == 401


# --- The served OpenAPI specification -----------------------------------------------------------


SPECIFICATIONS = [
    pytest.param("/_allauth/openapi.json", json.loads, id="json"),
    pytest.param("/_allauth/openapi.yaml", yaml.safe_load, id="yaml"),
]


def _routes(patterns: list[Any], prefix: str = "/") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _shape(path: str) -> str:
    """``/members/<int:membership_id>`` and ``/members/{id}`` both become ``/members/{}``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def routed_api_paths() -> set[str]:
    return {_shape(r) for r in _routes(get_resolver().url_patterns) if r.startswith("/api/")}


def documented_api_paths(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p: item for p, item in spec["paths"].items() if p.startswith("/api/")}


@pytest.mark.parametrize(("url", "load"), SPECIFICATIONS)
def test_specification_documents_exactly_the_routed_api_paths(
    db: Any, url: str, load: Callable[[bytes], Any]
) -> None:
    response = Client().get(url)
    assert response.status_code == 200
    spec = load(response.content)

    documented = documented_api_paths(spec)

    assert {_shape(p) for p in documented} == routed_api_paths()
    for path in documented:
        match = resolve(path.replace("{id}", "1"))
        assert match.route.startswith("api/v1/"), path
    assert "/_allauth/{client}/v1/auth/login" in spec["paths"]
    assert spec["info"]["title"] == "Twofold API"


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.mark.parametrize(("url", "load"), SPECIFICATIONS)
def test_specification_documents_exactly_the_allowed_methods(
    db: Any, url: str, load: Callable[[bytes], Any]
) -> None:
    spec = load(Client().get(url).content)

    for path, item in documented_api_paths(spec).items():
        concrete = path.replace("{id}", str(UNKNOWN_ID))
        for method in HTTP_METHODS:
            response = send(Client(), method.upper(), concrete, {})
            documented = method in item
            assert (response.status_code != 405) == documented, f"{method.upper()} {path}"


# --- Every served allauth-side address is in the spec, and every one in the spec is served ------

ALLAUTH_CLIENT_PATH = re.compile(r"^/_allauth/(browser|app)/v1/")


def served_allauth_paths() -> set[str]:
    """The concrete ``/_allauth/browser|app/v1/…`` addresses that reach a view serving them (a
    pattern matched earlier may shadow allauth's own)."""
    return {
        route
        for route in _routes(get_resolver().url_patterns)
        if ALLAUTH_CLIENT_PATH.match(route) and resolve(route).func is not not_served
    }


def documented_allauth_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in spec["paths"].items()
        if path.startswith("/_allauth/")
        for method in HTTP_METHODS
        if method in item
    ]


@pytest.fixture
def served_spec(db: Any) -> dict[str, Any]:
    return dict(json.loads(Client().get("/_allauth/openapi.json").content))


def test_every_served_allauth_path_is_in_the_specification(served_spec: dict[str, Any]) -> None:
    documented = set(served_spec["paths"])

    missing = [
        route
        for route in sorted(served_allauth_paths())
        if route not in documented
        and ALLAUTH_CLIENT_PATH.sub("/_allauth/{client}/v1/", route) not in documented
    ]

    assert missing == []


def test_every_operation_of_the_specification_is_served_and_answers_json(
    served_spec: dict[str, Any],
) -> None:
    """allauth's spec named its own 2FA (``…/auth/2fa/authenticate``, ``…/trust``) and phone
    endpoints, which Twofold does not serve: what is documented must be routed to a view, and
    answer JSON, never Django's HTML pages (CSRF failure, 404)."""
    operations = documented_allauth_operations(served_spec)
    assert ("/_allauth/{client}/v1/auth/2fa/sms", "post") in operations
    wrong = []
    for path, method in operations:
        for concrete in concrete_paths(path):
            if resolve(concrete).func is not_served:
                wrong.append((method, concrete, "not served"))
                continue
            client = Client(enforce_csrf_checks=True)
            response = send(client, method.upper(), concrete, {})
            content_type = response.headers.get("Content-Type", "")
            if response.status_code in (404, 405) or not content_type.startswith(
                "application/json"
            ):
                wrong.append((method, concrete, f"{response.status_code} {content_type}"))

    assert wrong == []


@pytest.mark.parametrize("client", ["browser", "app"])
@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("POST", "auth/2fa/authenticate"),
        ("POST", "auth/2fa/trust"),
        ("GET", "account/authenticators"),
        ("GET", "account/phone"),
    ],
)
def test_allauth_endpoints_twofold_does_not_serve_are_a_json_404_and_not_in_the_spec(
    served_spec: dict[str, Any], client: str, method: str, address: str
) -> None:
    response = send(Client(enforce_csrf_checks=True), method, f"/_allauth/{client}/v1/{address}")

    assert response.status_code == 404
    assert error_codes(response) == [("not_found", None)]
    assert f"/_allauth/{{client}}/v1/{address}" not in served_spec["paths"]
    assert f"/_allauth/{client}/v1/{address}" not in served_spec["paths"]
