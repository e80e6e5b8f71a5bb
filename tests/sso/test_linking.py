"""A member links their account's SAML connection (sso/linking.py): from the settings page after
re-authentication, or, when "Require SSO" refuses their password, at sign-in; either way only
their own account's connection and only an identity that asserts their own email. Signed through
the real SAML peer (tests/peers), the race of two answers at once run with 20 threads."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import Client

from tests.concurrency import at_once
from tests.conftest import PASSWORD, freshly_signed_in, signed_in
from tests.peers.harness import SamlIdp
from tests.sso.saml import acme_idp, at_idp, connect, post_to_acs, redirect_of  # noqa: F401
from tests.sso.saml import sign_in as saml_sign_in
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership
from twofold.sso import linking
from twofold.sso.models import AccountSso, SamlConnection, TrustPolicy, WhenMfaMissing

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/security/"


@pytest.fixture
def connection(acme_idp: SamlIdp, administrator: Membership) -> SamlConnection:  # noqa: F811
    """The account's connection (slug ``acme``), "Sign in with SSO" for the verified acme.test."""
    return connect(administrator.organization, acme_idp, slug="acme", domain="acme.test")


def link_url(connection: SamlConnection) -> str:
    return f"/settings/security/sso/{connection.pk}/link"


def links_of(membership: Membership) -> list[str]:
    return list(SocialAccount.objects.filter(user=membership.user).values_list("provider", "uid"))


def signed_in_as(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def require_sso(membership: Membership) -> None:
    AccountSso.objects.create(organization=membership.organization, require_sso=True)


# --- From the settings page -----------------------------------------------------------------------


def test_settings_page_offers_the_accounts_saml_connection_for_linking(
    connection: SamlConnection, member: Membership
) -> None:
    page = signed_in(Client(), member).get(SETTINGS).content.decode()

    assert f'action="{link_url(connection)}"' in page
    assert f"Link {connection.name}" in page


def test_a_member_links_the_accounts_saml_connection_from_settings_then_signs_in_with_it(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    client = freshly_signed_in(Client(), member)

    started = client.post(link_url(connection))
    answer = post_to_acs(client, at_idp(acme_idp, redirect_of(started["Location"]), email=EMAIL))
    assert links_of(member) == []  # allauth asks for the password once more, as for Google

    assert reauthenticate(client, answer)["Location"] == SETTINGS
    assert links_of(member) == [(connection.provider_id, EMAIL)]
    assert AuditEvent.objects.filter(event=Event.SSO_LINKED, subject=member.user).exists()
    assert "Linked" in client.get(SETTINGS).content.decode()
    browser = Client()
    assert saml_sign_in(browser, acme_idp, email=EMAIL)["Location"] == "/"
    assert signed_in_as(browser) == str(member.user.pk)


EMAIL = "bob@acme.test"  # the ``member`` fixture's


def reauthenticate(client: Client, answer: Any) -> Any:
    """Enter the password on the re-authentication page allauth redirected to; its answer."""
    assert answer["Location"].startswith("/accounts/reauthenticate/"), answer
    return client.post(answer["Location"], {"password": PASSWORD})


def test_asvs_7_5_1_linking_the_saml_connection_needs_a_recent_authentication(
    connection: SamlConnection, member: Membership
) -> None:
    answer = signed_in(Client(), member).post(link_url(connection))

    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/reauthenticate/")


def test_linking_refuses_another_persons_identity_at_the_identity_provider(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    """Someone with Bob's session but Carol's login at the IdP must not make Carol Bob (refused
    before the re-authentication is even asked for)."""
    client = freshly_signed_in(Client(), member)
    started = client.post(link_url(connection))

    answer = post_to_acs(
        client, at_idp(acme_idp, redirect_of(started["Location"]), email="carol@acme.test")
    )

    assert answer.status_code == 403
    assert links_of(member) == []
    event = AuditEvent.objects.get(event=Event.SSO_SIGN_IN_REFUSED)
    assert event.detail["reason"] == "email_mismatch"


def test_linking_another_accounts_connection_is_a_404(
    acme_idp: SamlIdp,  # noqa: F811
    member: Membership,
    other_administrator: Membership,
) -> None:
    theirs = connect(other_administrator.organization, acme_idp, slug="acme", domain="globex.test")

    answer = freshly_signed_in(Client(), member).post(link_url(theirs))

    assert answer.status_code == 404


# --- "Require SSO" routes a member without a link to link at sign-in ------------------------------


def password_sign_in(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_require_sso_routes_a_member_with_a_password_to_link_at_sign_in(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    """The member had a password before the connection existed: not locked out."""
    require_sso(member)
    client = Client()

    refused = password_sign_in(client, EMAIL)
    page = client.get(refused["Location"])
    assert page.status_code == 403
    assert f"Continue to {connection.name}" in page.content.decode()
    assert signed_in_as(client) is None
    started = client.post("/accounts/sso/link/")
    answer = post_to_acs(client, at_idp(acme_idp, redirect_of(started["Location"]), email=EMAIL))

    assert answer["Location"] == "/"
    assert signed_in_as(client) == str(member.user.pk)
    assert links_of(member) == [(connection.provider_id, EMAIL)]
    linked = AuditEvent.objects.get(event=Event.SSO_LINKED, subject=member.user)
    assert linked.detail == {"provider": connection.provider_id, "at": "sign_in"}
    assert saml_sign_in(Client(), acme_idp, email=EMAIL)["Location"] == "/"  # from now on


def test_the_link_offered_at_sign_in_needs_the_members_own_email_at_the_identity_provider(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    member: Membership,
) -> None:
    require_sso(member)
    client = Client()
    password_sign_in(client, EMAIL)
    started = client.post("/accounts/sso/link/")

    answer = post_to_acs(
        client, at_idp(acme_idp, redirect_of(started["Location"]), email="carol@acme.test")
    )

    assert answer.status_code == 403
    assert signed_in_as(client) is None
    assert links_of(member) == []


def test_the_link_offered_at_sign_in_links_nothing_when_the_connections_policy_refuses(
    acme_idp: SamlIdp,  # noqa: F811
    administrator: Membership,
    member: Membership,
) -> None:
    """The connection requires asserted MFA or refuses; the IdP asserts a password only: no
    half-done state, the sign-in is refused and nothing is linked."""
    connection = connect(
        administrator.organization,
        acme_idp,
        slug="acme",
        domain="acme.test",
        trust=TrustPolicy.REQUIRE_IDP_MFA,
        when_mfa_missing=WhenMfaMissing.REFUSE,
    )
    require_sso(member)
    client = Client()
    password_sign_in(client, EMAIL)
    started = client.post("/accounts/sso/link/")

    answer = post_to_acs(client, at_idp(acme_idp, redirect_of(started["Location"]), email=EMAIL))

    assert answer.status_code == 403
    assert signed_in_as(client) is None
    assert links_of(member) == []
    assert connection.provider_id not in str(
        AuditEvent.objects.filter(event=Event.SSO_LINKED).values_list("detail", flat=True)
    )


def test_a_wrong_password_offers_no_link(connection: SamlConnection, member: Membership) -> None:
    require_sso(member)
    client = Client()
    password_sign_in(client, EMAIL, password="not the password")

    answer = client.post("/accounts/sso/link/")

    assert answer["Location"] == "/accounts/sso/required/"
    assert "Continue to" not in client.get(answer["Location"]).content.decode()


def test_the_link_offer_expires(connection: SamlConnection, member: Membership) -> None:
    require_sso(member)
    client = Client()
    password_sign_in(client, EMAIL)
    session = client.session
    session[linking.TICKET] = {**session[linking.TICKET], "until": time.time() - 1}
    session.save()

    assert client.post("/accounts/sso/link/")["Location"] == "/accounts/sso/required/"


def test_a_member_already_linked_is_pointed_to_sign_in_with_sso(
    connection: SamlConnection, member: Membership
) -> None:
    require_sso(member)
    SocialAccount.objects.create(user=member.user, provider=connection.provider_id, uid=EMAIL)
    client = Client()

    page = client.get(password_sign_in(client, EMAIL)["Location"]).content.decode()

    assert "Continue to" not in page
    assert 'href="/accounts/sso/"' in page


def test_require_sso_in_the_api_names_the_connection_to_link(
    connection: SamlConnection, member: Membership
) -> None:
    require_sso(member)

    answer = Client().post(
        "/_allauth/browser/v1/auth/login",
        json.dumps({"email": EMAIL, "password": PASSWORD}),
        content_type="application/json",
    )

    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "sso_required"
    assert answer.json()["meta"]["link"] == {
        "provider": {"id": connection.provider_id, "name": connection.name}
    }


# --- The race: two answers at once link one subject -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_answers_linked_at_once_leave_the_member_one_link(
    connection: SamlConnection, member: Membership
) -> None:
    """20 identity-provider answers for the member (20 subjects) linked at the same moment: the
    locked user row lets exactly one through."""
    answers = iter(
        SocialLogin(
            account=SocialAccount(provider=connection.provider_id, uid=f"subject-{n}"),
            email_addresses=[EmailAddress(email=EMAIL)],
        )
        for n in range(20)
    )

    outcomes = at_once(lambda: linking.link(member.user, next(answers)))

    assert sorted(outcomes, key=str) == [False] * 19 + [True], outcomes
    assert SocialAccount.objects.filter(user=member.user).count() == 1
