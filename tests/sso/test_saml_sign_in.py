"""Sign in with SSO through a SAML connection, against the saml-idp peer (tests/peers)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.conftest import SmsOutbox
from tests.peers.harness import SAML_MFA, SamlIdp
from tests.sso.saml import (  # noqa: F401
    acme_idp,
    at_idp,
    connect,
    post_to_acs,
    redirect_of,
    sign_in,
    start,
)
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership
from twofold.sessions import assurance
from twofold.sso.models import SamlConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(acme_idp: SamlIdp, administrator: Membership) -> SamlConnection:  # noqa: F811
    return connect(administrator.organization, acme_idp, slug="acme", domain="acme.test")


def link(membership: Membership, connection: SamlConnection) -> SocialAccount:
    return SocialAccount.objects.create(
        user=membership.user, provider=connection.provider_id, uid=membership.user.email
    )


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def test_linked_member_signs_in_with_sso_and_our_sms_step_is_skipped(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member_with_sms: Membership,
    sms_outbox: SmsOutbox,
) -> None:
    link(member_with_sms, connection)
    client = Client()

    answer = sign_in(client, acme_idp, email="bob@acme.test")

    assert answer.status_code == 302, answer.content[:800]
    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member_with_sms.user.pk)
    assert sms_outbox.messages() == []
    recorded = assurance.records(client.session, member_with_sms.user)
    assert assurance.amr(recorded) == ["fed"]
    assert assurance.session_level(recorded) == "aal2"


def test_saml_session_records_mfa_when_the_identity_provider_asserts_it(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    link(member, connection)
    acme_idp.set_authn_context(SAML_MFA)
    client = Client()

    sign_in(client, acme_idp, email="bob@acme.test")

    assert assurance.amr(assurance.records(client.session, member.user)) == ["fed", "mfa"]


def test_sign_in_with_sso_for_an_unknown_domain_says_so(connection: SamlConnection) -> None:
    answer = Client().post("/accounts/sso/", {"email": "eve@unknown.test"})

    assert answer.status_code == 400
    assert "No single sign-on is set up for this email address" in answer.content.decode()


def test_unlinked_subject_is_refused_and_audited(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    client = Client()

    answer = sign_in(client, acme_idp, email="bob@acme.test")

    assert answer.status_code == 403
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED).get()
    assert event.detail["reason"] == "not_linked"


def test_sign_in_page_offers_sign_in_with_sso_once_a_connection_claims_a_domain(
    connection: SamlConnection,
) -> None:
    page = Client().get("/accounts/login/").content.decode()

    assert 'href="/accounts/sso/"' in page
    assert "acme" not in page.lower().replace("acme.test", "")


def test_start_redirects_to_the_connections_identity_provider(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
) -> None:
    answer = Client().post("/accounts/sso/", {"email": "Bob@ACME.test"})

    assert answer["Location"].startswith(acme_idp.sso_url + "?SAMLRequest=")
    assert start  # the helper used by the other tests starts the same way


def api_start(client: Client) -> str:
    """An SPA starts "Sign in with SSO": discover the provider, then allauth's redirect."""
    found = client.post(
        "/api/v1/auth/sso", '{"email": "bob@acme.test"}', content_type="application/json"
    )
    provider = found.json()["data"]["provider"]["id"]
    redirect = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {"provider": provider, "process": "login", "callback_url": "/app/callback"},
    )
    assert redirect.status_code == 302, redirect.content[:500]
    return str(redirect["Location"])


def test_api_client_signs_in_with_sso_and_returns_to_its_app(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    link(member, connection)
    client = Client()

    posted = at_idp(acme_idp, redirect_of(api_start(client)), email="bob@acme.test")
    answer = post_to_acs(client, posted)

    assert answer.status_code == 302
    assert answer["Location"] == "/app/callback"
    session = client.get("/_allauth/browser/v1/auth/session").json()
    assert session["data"]["user"]["email"] == "bob@acme.test"


def test_api_client_refused_with_sso_returns_to_its_app_with_an_error(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    client = Client()  # bob is not linked at the connection

    posted = at_idp(acme_idp, redirect_of(api_start(client)), email="bob@acme.test")
    answer = post_to_acs(client, posted)

    assert answer.status_code == 302
    assert answer["Location"].startswith("/app/callback?")
    assert "error=denied" in answer["Location"]
    assert signed_in_user_id(client) is None


def test_sp_metadata_names_our_entity_id_and_acs_for_the_identity_providers_administrator(
    connection: SamlConnection,
) -> None:
    answer = Client().get("/accounts/saml/acme/metadata/")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/xml")
    xml = answer.content.decode()
    assert 'entityID="http://testserver/accounts/saml/acme/metadata/"' in xml
    assert 'Location="http://testserver/accounts/saml/acme/acs/"' in xml
    assert 'WantAssertionsSigned="true"' in xml


def test_sp_metadata_of_an_unknown_connection_is_not_found() -> None:
    assert Client().get("/accounts/saml/nope/metadata/").status_code == 404


def test_saml_single_logout_is_not_offered(connection: SamlConnection) -> None:
    assert Client().get("/accounts/saml/acme/sls/?SAMLRequest=x").status_code == 404
