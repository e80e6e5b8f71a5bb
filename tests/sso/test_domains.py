"""Email domains compare as DNS stores them (A-labels, lower case), at sign-in as in the forms."""

from __future__ import annotations

import pytest

from twofold import clock
from twofold.organizations.models import Membership
from twofold.sso import flows
from twofold.sso.domains import ascii_domain, domain_of_email
from twofold.sso.models import EmailDomain, SamlConnection


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Anna@Bücher.TEST", "xn--bcher-kva.test"),
        ("bob@acme.test.", "acme.test"),
        ("no-at-sign", ""),
        ("@acme.test", ""),
        ("eve@exa mple.test", ""),
    ],
)
def test_domain_of_an_email_is_its_a_label_form(email: str, domain: str) -> None:
    assert domain_of_email(email) == domain


def test_a_domain_typed_in_a_form_matches_the_same_domain_at_sign_in() -> None:
    assert ascii_domain("@BÜCHER.test") == domain_of_email("anna@bücher.test")


@pytest.mark.django_db
def test_sign_in_with_sso_finds_the_connection_of_an_international_domain(
    administrator: Membership,
) -> None:
    connection = SamlConnection.objects.create(
        organization=administrator.organization,
        name="Bücher IdP",
        idp_entity_id="urn:buecher",
        idp_sso_url="https://idp.test/sso",
        idp_certificate="-",
    )
    EmailDomain.objects.create(
        organization=administrator.organization,
        domain="xn--bcher-kva.test",
        connection=connection,
        verified_at=clock.now(),
    )

    assert flows.connection_for_email("anna@Bücher.test") == connection
