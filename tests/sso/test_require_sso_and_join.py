"""An account that requires SSO, "Sign in with SSO" in the API, and just-in-time membership."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.peers.harness import OidcProvider, SamlIdp
from tests.sso.conftest import sign_in
from tests.sso.saml import acme_idp, connect  # noqa: F401
from tests.sso.saml import sign_in as saml_sign_in
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership, Role
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection
from twofold.users.models import User

pytestmark = pytest.mark.django_db


def require_sso(membership: Membership) -> None:
    AccountSso.objects.create(organization=membership.organization, require_sso=True)


def password_page_sign_in(client: Client, email: str) -> object:
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD})


def signed_in_as(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


# --- Require SSO ----------------------------------------------------------------------------------


def test_require_sso_refuses_a_members_password_sign_in_with_a_pointer_to_sso(
    member: Membership,
) -> None:
    require_sso(member)
    client = Client()

    answer = password_page_sign_in(client, member.user.email)

    assert answer["Location"] == "/accounts/sso/required/"
    page = client.get(answer["Location"])
    assert page.status_code == 403
    assert "Sign in with SSO" in page.content.decode()
    assert signed_in_as(client) is None
    assert client.get("/accounts/2fa/").status_code != 200  # no login left pending
    event = AuditEvent.objects.get(event=Event.SIGN_IN_FAILED)
    assert (event.subject, event.detail) == (member.user, {"reason": "sso_required"})


def test_require_sso_refuses_a_password_sign_in_in_the_api_with_a_code(member: Membership) -> None:
    require_sso(member)
    client = Client()

    answer = client.post(
        "/_allauth/browser/v1/auth/login",
        json.dumps({"email": member.user.email, "password": PASSWORD}),
        content_type="application/json",
    )

    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "sso_required"
    assert signed_in_as(client) is None


def test_administrators_keep_their_password_when_sso_is_required(
    administrator: Membership,
) -> None:
    require_sso(administrator)
    client = Client()

    answer = password_page_sign_in(client, administrator.user.email)

    assert answer["Location"] == "/"
    assert signed_in_as(client) == str(administrator.user.pk)


@pytest.mark.usefixtures("sso")
def test_require_sso_lets_the_member_in_through_google(
    google: OidcProvider, member: Membership
) -> None:
    require_sso(member)
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=member.user, provider="google", uid="g-bob")
    client = Client()

    answer = sign_in(client, google, "google", email="bob@acme.test", sub="g-bob")

    assert answer["Location"] == "/"


# --- Sign in with SSO in the API ------------------------------------------------------------------


@pytest.fixture
def connection(acme_idp: SamlIdp, administrator: Membership) -> SamlConnection:  # noqa: F811
    return connect(administrator.organization, acme_idp, slug="acme", domain="acme.test")


def discover(email: object) -> tuple[int, dict[str, object]]:
    answer = Client().post(
        "/api/v1/auth/sso", json.dumps({"email": email}), content_type="application/json"
    )
    return answer.status_code, answer.json()


def test_api_names_the_identity_provider_of_a_work_email(connection: SamlConnection) -> None:
    status, body = discover("Bob@Acme.Test")

    assert status == 200
    assert body["data"] == {"provider": {"id": "saml-acme", "name": connection.name}}


@pytest.mark.parametrize(
    ("email", "status", "code"),
    [
        ("eve@unknown.test", 404, "no_sso_for_domain"),
        ("not an email", 400, "invalid"),
        (7, 400, "wrong_type"),  # a number is not stringified (api/body.py)
    ],
)
def test_api_sso_discovery_refuses_clearly(
    connection: SamlConnection, email: object, status: int, code: str
) -> None:
    answer_status, body = discover(email)

    assert answer_status == status
    assert body["errors"][0]["code"] == code


# --- Just-in-time membership ----------------------------------------------------------------------


def test_a_newcomer_of_a_just_in_time_domain_joins_through_the_accounts_saml_connection(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
) -> None:
    EmailDomain.objects.filter(domain="acme.test").update(just_in_time=True)
    client = Client()

    answer = saml_sign_in(client, acme_idp, email="carol@acme.test")

    assert answer["Location"] == "/"
    user = User.objects.get(email="carol@acme.test")
    assert signed_in_as(client) == str(user.pk)
    assert (user.membership.organization, user.membership.role) == (
        connection.organization,
        Role.MEMBER,
    )
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(event=Event.SSO_JOINED, subject=user).exists()


def test_without_just_in_time_a_newcomer_is_refused_and_nobody_is_created(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
) -> None:
    client = Client()

    answer = saml_sign_in(client, acme_idp, email="carol@acme.test")

    assert answer.status_code == 403
    assert not User.objects.filter(email="carol@acme.test").exists()


def test_just_in_time_never_takes_over_an_existing_email(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    EmailDomain.objects.filter(domain="acme.test").update(just_in_time=True)
    client = Client()

    answer = saml_sign_in(client, acme_idp, email=member.user.email)

    assert answer.status_code == 403
    assert "already exists" in answer.content.decode()
    assert signed_in_as(client) is None


@pytest.mark.usefixtures("sso")
@pytest.mark.parametrize(("hd", "joins"), [("acme.test", True), (None, False)])
def test_google_just_in_time_needs_a_workspace_account_of_the_domain(
    google: OidcProvider, administrator: Membership, hd: str | None, joins: bool
) -> None:
    EmailDomain.objects.create(
        organization=administrator.organization,
        domain="acme.test",
        just_in_time=True,
        verified_at=clock.now(),
    )
    client = Client()

    answer = sign_in(client, google, "google", email="dan@acme.test", sub="g-dan", hd=hd)

    assert User.objects.filter(email="dan@acme.test").exists() is joins
    assert (answer.status_code == 302 and answer["Location"] == "/") is joins
