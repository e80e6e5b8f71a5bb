"""An account's applications in the JSON API (/api/v1/organization/applications…):
administrators only, changes need a recent authentication (ASVS 7.5.1), the secret is in the
answer to a registration or a rotation and nowhere else, the one before a rotation keeps working
for its grace, another account's application does not exist."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tests.conftest import freshly_signed_in, signed_in
from tests.idp.test_code_flow import REDIRECT, authorize, callback_parameters, pkce, redeem
from twofold import clock
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError
from twofold.idp import applications as flows
from twofold.idp.models import Application
from twofold.organizations.models import Membership

pytestmark = pytest.mark.django_db

APPLICATIONS = "/api/v1/organization/applications"


@pytest.fixture
def administrator_client(administrator: Membership) -> Client:
    return freshly_signed_in(Client(), administrator)


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json")


def registered(client: Client, **fields: Any) -> dict[str, Any]:
    body = {"name": "Acme Wiki", "redirect_uris": [REDIRECT], **fields}
    response = send(client, "POST", APPLICATIONS, body)
    assert response.status_code == 201, response.content
    return dict(response.json()["data"])


def codes(response: Any) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def test_an_administrator_registers_an_application_and_sees_its_secret_once(
    administrator_client: Client,
) -> None:
    shown = registered(administrator_client)
    assert shown["client_type"] == "confidential"
    assert shown["scopes"] == ["openid", "profile", "email"]
    assert shown["client_secret"]
    listed = send(administrator_client, "GET", APPLICATIONS).json()["data"]
    assert [a["client_id"] for a in listed] == [shown["client_id"]]
    assert "client_secret" not in listed[0]
    one = send(administrator_client, "GET", f"{APPLICATIONS}/{shown['id']}").json()["data"]
    assert "client_secret" not in one


def test_an_application_registered_with_pairwise_subjects_and_a_logout_uri(
    administrator_client: Client,
) -> None:
    logout = "http://127.0.0.1:9000/backchannel-logout"
    shown = registered(administrator_client, subject_type="pairwise", backchannel_logout_uri=logout)
    assert shown["subject_type"] == "pairwise"
    assert shown["backchannel_logout_uri"] == logout
    path = f"{APPLICATIONS}/{shown['id']}"
    cleared = send(administrator_client, "PATCH", path, {"backchannel_logout_uri": ""})
    assert cleared.json()["data"]["backchannel_logout_uri"] is None
    assert cleared.json()["data"]["subject_type"] == "pairwise"  # fixed at registration


def test_a_public_client_has_no_secret(administrator_client: Client) -> None:
    shown = registered(administrator_client, client_type="public")
    assert shown["client_type"] == "public"
    assert "client_secret" not in shown
    rotated = send(administrator_client, "POST", f"{APPLICATIONS}/{shown['id']}/secret")
    assert rotated.status_code == 400
    assert codes(rotated) == [("public_client", None)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("redirect_uris", [], "required"),
        ("redirect_uris", ["https://app.example/cb#frag"], "redirect_uri_invalid"),
        ("redirect_uris", ["https://*.example/cb"], "redirect_uri_invalid"),
        ("redirect_uris", "not a list", "redirect_uri_invalid"),
        ("scopes", ["profile"], "invalid"),
        ("scopes", ["openid", "admin"], "invalid_choice"),
        ("client_type", "robot", "invalid_choice"),
        ("backchannel_logout_uri", "https://app.example/logout#x", "redirect_uri_invalid"),
        ("subject_type", "secret", "invalid_choice"),
        ("name", "", "required"),
        ("name", ["a list"], "wrong_type"),
    ],
)
def test_a_bad_registration_is_a_400_naming_the_field_and_registers_nothing(
    administrator_client: Client, field: str, value: Any, code: str
) -> None:
    body = {"name": "Acme Wiki", "redirect_uris": [REDIRECT], field: value}
    response = send(administrator_client, "POST", APPLICATIONS, body)
    assert response.status_code == 400
    (got_code, got_param), *_ = codes(response)
    assert got_param == field
    if code != "invalid":
        assert got_code == code
    assert not Application.objects.exists()


def test_asvs_7_5_1_a_stale_session_registers_nothing(administrator: Membership) -> None:
    client = signed_in(Client(), administrator)  # signed in, but not recently
    response = send(client, "POST", APPLICATIONS, {"name": "X", "redirect_uris": [REDIRECT]})
    assert response.status_code == 401
    assert codes(response)[0][0] == "reauthentication_required"
    assert not Application.objects.exists()


def test_a_member_who_is_no_administrator_gets_403(member: Membership) -> None:
    client = freshly_signed_in(Client(), member)
    assert send(client, "GET", APPLICATIONS).status_code == 403
    response = send(client, "POST", APPLICATIONS, {"name": "X", "redirect_uris": [REDIRECT]})
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_another_accounts_application_is_a_404_to_read_change_rotate_and_delete(
    administrator_client: Client, other_administrator: Membership
) -> None:
    theirs = registered(freshly_signed_in(Client(), other_administrator))
    path = f"{APPLICATIONS}/{theirs['id']}"
    assert send(administrator_client, "GET", path).status_code == 404
    assert send(administrator_client, "PATCH", path, {"name": "Mine"}).status_code == 404
    assert send(administrator_client, "POST", path + "/secret").status_code == 404
    assert send(administrator_client, "DELETE", path).status_code == 404
    assert Application.objects.get(pk=theirs["id"]).name == "Acme Wiki"
    assert send(administrator_client, "GET", APPLICATIONS).json()["data"] == []


def test_a_patch_changes_only_what_it_names_and_is_audited(administrator_client: Client) -> None:
    shown = registered(administrator_client, post_logout_redirect_uris=[REDIRECT])
    changed = send(
        administrator_client, "PATCH", f"{APPLICATIONS}/{shown['id']}", {"name": "Acme Docs"}
    )
    assert changed.status_code == 200
    data = changed.json()["data"]
    assert data["name"] == "Acme Docs"
    assert data["redirect_uris"] == [REDIRECT]
    assert data["post_logout_redirect_uris"] == [REDIRECT]
    event = AuditEvent.objects.get(event="application.changed")
    assert event.detail == {"client_id": shown["client_id"], "changed": ["name"]}


def test_rotating_gives_a_new_secret_and_the_old_one_works_until_its_grace_ends(
    administrator_client: Client, administrator: Membership
) -> None:
    shown = registered(administrator_client)
    old = shown["client_secret"]
    rotated = send(administrator_client, "POST", f"{APPLICATIONS}/{shown['id']}/secret").json()
    new = rotated["data"]["client_secret"]
    assert new != old
    assert rotated["data"]["old_secret_valid_until"] is not None
    application = Application.objects.get(pk=shown["id"])
    assert redeems(application, administrator, new)
    assert redeems(application, administrator, old)
    assert not redeems(application, administrator, "neither-of-them")
    # After the grace, only the new one.
    Application.objects.filter(pk=shown["id"]).update(
        previous_secret_expires_at=clock.now() - timedelta(seconds=1)
    )
    assert not redeems(application, administrator, old)
    assert redeems(application, administrator, new)
    assert AuditEvent.objects.filter(event="application.secret_rotated").count() == 1


def test_the_old_secret_can_be_ended_at_once(
    administrator_client: Client, administrator: Membership
) -> None:
    shown = registered(administrator_client)
    old = shown["client_secret"]
    send(administrator_client, "POST", f"{APPLICATIONS}/{shown['id']}/secret")
    ended = send(administrator_client, "DELETE", f"{APPLICATIONS}/{shown['id']}/secret")
    assert ended.status_code == 200
    assert ended.json()["data"]["old_secret_valid_until"] is None
    assert not redeems(Application.objects.get(pk=shown["id"]), administrator, old)


def test_a_second_rotation_ends_the_first_secret(
    administrator_client: Client, administrator: Membership
) -> None:
    shown = registered(administrator_client)
    first = shown["client_secret"]
    path = f"{APPLICATIONS}/{shown['id']}/secret"
    second = send(administrator_client, "POST", path).json()["data"]["client_secret"]
    third = send(administrator_client, "POST", path).json()["data"]["client_secret"]
    application = Application.objects.get(pk=shown["id"])
    assert not redeems(application, administrator, first)
    assert redeems(application, administrator, second)
    assert redeems(application, administrator, third)


def test_deleting_an_application_ends_its_tokens(
    administrator_client: Client, administrator: Membership
) -> None:
    shown = registered(administrator_client)
    application = Application.objects.get(pk=shown["id"])
    token = redeemed(application, administrator, shown["client_secret"]).json()["access_token"]
    assert send(administrator_client, "DELETE", f"{APPLICATIONS}/{shown['id']}").status_code == 204
    assert not Application.objects.exists()
    userinfo = Client().get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert userinfo.status_code == 401
    assert AuditEvent.objects.filter(event="application.deleted").count() == 1


def test_the_flows_refuse_a_uri_list_from_the_operator_too(administrator: Membership) -> None:
    with pytest.raises(FlowError):
        flows.register(
            organization=None, actor=None, name="Host", redirect_uris=["ftp://example/cb"]
        )


def redeemed(application: Application, membership: Membership, secret: str) -> Any:
    browser = freshly_signed_in(Client(), membership)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(browser, application, challenge))["code"]
    return redeem(application, secret, code, verifier)


def redeems(application: Application, membership: Membership, secret: str) -> bool:
    return bool(redeemed(application, membership, secret).status_code == 200)
