"""Single sign-on in the JSON API (/api/v1/organization/sso…): administrators only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, signed_in
from tests.sso.certificates import ENTITY_ID, SSO_URL, certificate_pem, metadata_xml
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection, TrustPolicy

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/organization/sso"
CONNECTIONS = "/api/v1/organization/sso/connections"
DOMAINS = "/api/v1/organization/sso/domains"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


@pytest.fixture
def administrator_client(administrator: Membership) -> Client:
    """Signed in just now: the changes here need a recent authentication (ASVS 7.5.1)."""
    return freshly_signed_in(Client(), administrator)


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, path, data, content_type="application/json")


def errors(response: Any) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def pasted(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Acme IdP",
        "idp_entity_id": ENTITY_ID,
        "idp_sso_url": SSO_URL,
        "idp_certificate": certificate_pem(),
        **fields,
    }


@pytest.fixture
def connection(administrator: Membership) -> SamlConnection:
    return SamlConnection.objects.create(
        organization=administrator.organization,
        name="Acme IdP",
        idp_entity_id=ENTITY_ID,
        idp_sso_url=SSO_URL,
        idp_certificate=certificate_pem(),
    )


# --- Settings ------------------------------------------------------------------------------------


def test_settings_start_with_the_defaults(administrator_client: Client) -> None:
    data = send(administrator_client, "GET", SETTINGS).json()["data"]

    assert data["trust"] == TrustPolicy.IDP_TWO_FACTOR
    assert (data["microsoft_tenants"], data["require_sso"]) == ([], False)
    assert not AccountSso.objects.exists()


def test_settings_patch_changes_only_the_fields_it_names_and_is_audited(
    administrator: Membership, administrator_client: Client
) -> None:
    answer = send(administrator_client, "PATCH", SETTINGS, {"microsoft_tenants": [TENANT.upper()]})

    assert answer.status_code == 200
    assert answer.json()["data"]["microsoft_tenants"] == [TENANT]
    saved = AccountSso.objects.get(organization=administrator.organization)
    assert (saved.trust, saved.require_sso) == (TrustPolicy.IDP_TWO_FACTOR, False)
    event = AuditEvent.objects.get(event=Event.SSO_SETTINGS_CHANGED)
    assert set(event.detail) == {"microsoft_tenants"}

    send(administrator_client, "PATCH", SETTINGS, {"require_sso": True})
    saved.refresh_from_db()
    assert (saved.microsoft_tenants, saved.require_sso) == ([TENANT], True)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"microsoft_tenants": ["not-a-uuid"]}, ("invalid_tenant", "microsoft_tenants")),
        ({"microsoft_tenants": "a\nb"}, ("invalid_tenant", "microsoft_tenants")),
        ({"microsoft_tenants": [1, 2]}, ("invalid", "microsoft_tenants")),
        ({"trust": "whatever"}, ("invalid_choice", "trust")),
    ],
)
def test_bad_settings_are_a_400(
    administrator_client: Client, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    answer = send(administrator_client, "PATCH", SETTINGS, body)

    assert answer.status_code == 400
    assert expected in errors(answer)
    assert not AccountSso.objects.exists()


# --- Connections ---------------------------------------------------------------------------------


def test_connection_is_created_from_metadata_with_twofolds_values(
    administrator_client: Client,
) -> None:
    answer = send(
        administrator_client,
        "POST",
        CONNECTIONS,
        {"name": "Acme IdP", "metadata": metadata_xml(), "trust": TrustPolicy.ALWAYS_OURS},
    )

    assert answer.status_code == 201, answer.json()
    data = answer.json()["data"]
    created = SamlConnection.objects.get()
    assert data["id"] == created.pk
    assert (data["idp_entity_id"], data["idp_sso_url"]) == (ENTITY_ID, SSO_URL)
    assert data["trust"] == TrustPolicy.ALWAYS_OURS
    assert data["allow_idp_initiated"] is False
    assert data["certificate"]["subject"] == "CN=idp.acme.test"
    assert data["service_provider"] == {
        "entity_id": f"http://testserver/accounts/saml/{created.slug}/metadata/",
        "acs_url": f"http://testserver/accounts/saml/{created.slug}/acs/",
        "metadata_url": f"http://testserver/accounts/saml/{created.slug}/metadata/",
    }
    assert AuditEvent.objects.filter(event=Event.SSO_CONNECTION_CREATED).count() == 1
    listed = send(administrator_client, "GET", CONNECTIONS).json()["data"]
    assert [c["id"] for c in listed] == [created.pk]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"metadata": "<not xml"}, ("invalid", "metadata"), id="bad-xml"),
        pytest.param(
            {"metadata": metadata_xml(keys="")}, ("invalid", "metadata"), id="no-certificate"
        ),
        pytest.param(
            pasted(idp_certificate=certificate_pem(valid_for=-timedelta(seconds=1))),
            ("invalid", "idp_certificate"),
            id="expired-certificate",
        ),
        pytest.param(
            pasted(idp_sso_url="http://idp.acme.test/sso"), ("invalid", "idp_sso_url"), id="http"
        ),
        pytest.param(
            pasted(trust=TrustPolicy.REQUIRE_IDP_MFA, mfa_contexts=[]),
            ("invalid", "mfa_contexts"),
            id="mfa-without-values",
        ),
        pytest.param(
            pasted(mfa_contexts="has a space"), ("invalid", "mfa_contexts"), id="bad-context"
        ),
        pytest.param({"name": "Acme IdP"}, ("invalid", "idp_entity_id"), id="nothing"),
    ],
)
def test_bad_connections_are_a_400(
    administrator_client: Client, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    answer = send(administrator_client, "POST", CONNECTIONS, {"name": "Acme IdP", **body})

    assert answer.status_code == 400
    assert expected in errors(answer)
    assert not SamlConnection.objects.exists()


def test_second_connection_to_the_same_identity_provider_is_a_409(
    administrator_client: Client, connection: SamlConnection
) -> None:
    answer = send(administrator_client, "POST", CONNECTIONS, pasted(name="Again"))

    assert answer.status_code == 409
    assert errors(answer) == [("connection_exists", "idp_entity_id")]


def test_connection_patch_changes_only_the_fields_it_names_and_is_audited(
    administrator_client: Client, connection: SamlConnection
) -> None:
    answer = send(
        administrator_client,
        "PATCH",
        f"{CONNECTIONS}/{connection.pk}",
        {"allow_idp_initiated": True, "mfa_contexts": ["urn:example:mfa"]},
    )

    assert answer.status_code == 200, answer.json()
    saved = SamlConnection.objects.get()
    assert (saved.allow_idp_initiated, saved.mfa_contexts) == (True, ["urn:example:mfa"])
    assert (saved.name, saved.idp_certificate) == (connection.name, connection.idp_certificate)
    event = AuditEvent.objects.get(event=Event.SSO_CONNECTION_CHANGED)
    assert event.detail["allow_idp_initiated"] == {"from": False, "to": True}


def test_connection_patch_with_new_metadata_replaces_the_identity_provider(
    administrator_client: Client, connection: SamlConnection
) -> None:
    metadata = metadata_xml(entity_id="urn:acme:new", sso_url="https://new.acme.test/sso")

    send(administrator_client, "PATCH", f"{CONNECTIONS}/{connection.pk}", {"metadata": metadata})

    saved = SamlConnection.objects.get()
    assert (saved.idp_entity_id, saved.idp_sso_url) == ("urn:acme:new", "https://new.acme.test/sso")


def test_connection_delete_is_a_204_and_audited(
    administrator_client: Client, connection: SamlConnection
) -> None:
    answer = send(administrator_client, "DELETE", f"{CONNECTIONS}/{connection.pk}")

    assert answer.status_code == 204
    assert not SamlConnection.objects.exists()
    assert AuditEvent.objects.filter(event=Event.SSO_CONNECTION_DELETED).count() == 1


# --- Domains -------------------------------------------------------------------------------------


def test_domain_is_added_changed_listed_and_removed(
    administrator_client: Client, connection: SamlConnection
) -> None:
    added = send(administrator_client, "POST", DOMAINS, {"domain": "ACME.test"})
    assert added.status_code == 201
    domain_id = added.json()["data"]["id"]
    token = EmailDomain.objects.get().txt_record
    assert added.json()["data"] == {
        "id": domain_id,
        "domain": "acme.test",
        "connection": None,
        "just_in_time": False,
        "verified": False,  # pending until its TXT record is found
        "verified_at": None,
        "verification": {"type": "TXT", "name": "acme.test", "value": token},
    }

    changed = send(
        administrator_client, "PATCH", f"{DOMAINS}/{domain_id}", {"connection": connection.pk}
    )
    assert changed.json()["data"]["connection"] == connection.pk
    assert changed.json()["data"]["just_in_time"] is False  # left out: unchanged
    assert [d["domain"] for d in send(administrator_client, "GET", DOMAINS).json()["data"]] == [
        "acme.test"
    ]

    assert send(administrator_client, "DELETE", f"{DOMAINS}/{domain_id}").status_code == 204
    assert not EmailDomain.objects.exists()
    assert AuditEvent.objects.filter(event=Event.SSO_SETTINGS_CHANGED).count() == 3


@pytest.mark.parametrize("domain", ["acme", "acme..test", "1.2.3.4", "ac_me.test", "a" * 254])
def test_invalid_domain_is_a_400(administrator_client: Client, domain: str) -> None:
    answer = send(administrator_client, "POST", DOMAINS, {"domain": domain})

    assert answer.status_code == 400
    assert [param for _, param in errors(answer)] == ["domain"]


def test_domain_of_another_account_is_a_409_that_does_not_name_it(
    administrator_client: Client, other_administrator: Membership
) -> None:
    EmailDomain.objects.create(
        organization=other_administrator.organization, domain="acme.test", verified_at=clock.now()
    )

    answer = send(administrator_client, "POST", DOMAINS, {"domain": "acme.test"})

    assert answer.status_code == 409
    assert errors(answer) == [("domain_taken", "domain")]
    assert answer.json()["errors"][0]["message"] == (
        "This domain is already claimed by another account."
    )
    assert other_administrator.organization.name not in answer.content.decode()


def test_domain_cannot_name_another_accounts_connection(
    administrator_client: Client, other_administrator: Membership
) -> None:
    theirs = SamlConnection.objects.create(
        organization=other_administrator.organization,
        name="Globex IdP",
        idp_entity_id="urn:globex",
        idp_sso_url=SSO_URL,
        idp_certificate=certificate_pem(),
    )

    answer = send(
        administrator_client, "POST", DOMAINS, {"domain": "acme.test", "connection": theirs.pk}
    )

    assert answer.status_code == 404
    assert errors(answer) == [("not_found", "connection")]
    assert not EmailDomain.objects.exists()


# --- Who may -------------------------------------------------------------------------------------


def requests_of(connection: SamlConnection, claimed: EmailDomain) -> list[tuple[str, str, Any]]:
    return [
        ("GET", SETTINGS, None),
        ("PATCH", SETTINGS, {"require_sso": True}),
        ("GET", CONNECTIONS, None),
        ("POST", CONNECTIONS, pasted(idp_entity_id="urn:other")),
        ("GET", f"{CONNECTIONS}/{connection.pk}", None),
        ("PATCH", f"{CONNECTIONS}/{connection.pk}", {"name": "Taken over"}),
        ("DELETE", f"{CONNECTIONS}/{connection.pk}", None),
        ("GET", DOMAINS, None),
        ("POST", DOMAINS, {"domain": "other.test"}),
        ("PATCH", f"{DOMAINS}/{claimed.pk}", {"just_in_time": True}),
        ("DELETE", f"{DOMAINS}/{claimed.pk}", None),
    ]


def test_members_get_403_and_change_nothing(
    member_client: Client, administrator: Membership, connection: SamlConnection
) -> None:
    claimed = EmailDomain.objects.create(organization=administrator.organization, domain="a.test")

    for method, path, body in requests_of(connection, claimed):
        answer = send(member_client, method, path, body)
        assert answer.status_code == 403, f"{method} {path}"
        assert errors(answer) == [("forbidden", None)]

    assert SamlConnection.objects.get().name == "Acme IdP"
    assert EmailDomain.objects.get().just_in_time is False
    assert not AccountSso.objects.exists()


def test_anonymous_callers_get_401(administrator: Membership, connection: SamlConnection) -> None:
    claimed = EmailDomain.objects.create(organization=administrator.organization, domain="a.test")

    for method, path, body in requests_of(connection, claimed):
        assert send(Client(), method, path, body).status_code == 401, f"{method} {path}"


def test_another_accounts_connection_and_domain_are_404(
    other_administrator: Membership, administrator: Membership, connection: SamlConnection
) -> None:
    claimed = EmailDomain.objects.create(organization=administrator.organization, domain="a.test")
    # Signed in just now: the 404 is the account boundary, not a re-authentication prompt.
    client = freshly_signed_in(Client(), other_administrator)

    for method, path, body in requests_of(connection, claimed):
        if path in (SETTINGS, CONNECTIONS, DOMAINS):
            continue
        answer = send(client, method, path, body)
        assert answer.status_code == 404, f"{method} {path}"
    assert SamlConnection.objects.get().name == "Acme IdP"
    assert EmailDomain.objects.get().just_in_time is False
    assert send(client, "GET", CONNECTIONS).json()["data"] == []


def test_asvs_7_5_1_sso_changes_require_recent_authentication(
    administrator: Membership, connection: SamlConnection
) -> None:
    """API: every change is a 401 naming the re-authentication flow until the administrator
    confirms the password; reading stays open."""
    claimed = EmailDomain.objects.create(organization=administrator.organization, domain="a.test")
    stale = signed_in(Client(), administrator)  # no authentication within 5 minutes

    for method, path, body in requests_of(connection, claimed):
        answer = send(stale, method, path, body)
        if method == "GET":
            assert answer.status_code == 200, f"{method} {path}"
            continue
        assert answer.status_code == 401, f"{method} {path}"
        assert errors(answer) == [("reauthentication_required", None)], f"{method} {path}"
        assert "/auth/reauthenticate" in answer.json()["errors"][0]["message"]
    assert not AccountSso.objects.filter(require_sso=True).exists()
    assert [c.name for c in SamlConnection.objects.all()] == ["Acme IdP"]
    assert list(EmailDomain.objects.values_list("domain", "just_in_time")) == [("a.test", False)]

    again = send(stale, "POST", "/_allauth/browser/v1/auth/reauthenticate", {"password": PASSWORD})
    assert again.status_code == 200
    changed = send(stale, "PATCH", SETTINGS, {"require_sso": True})
    assert changed.status_code == 200
    assert changed.json()["data"]["require_sso"] is True
