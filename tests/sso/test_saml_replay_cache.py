"""SAML assertion ids are kept until they expire, in the database cache every worker and instance
shares (never Redis, whose outage would forget them): an assertion is accepted once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.concurrency import at_once
from twofold import clock
from twofold.organizations.models import Membership
from twofold.sso.models import SamlConnection
from twofold.sso.saml import remember_assertion


def make_connection(membership: Membership, slug: str) -> SamlConnection:
    return SamlConnection.objects.create(
        organization=membership.organization,
        slug=slug,
        name=slug,
        idp_entity_id=f"urn:{slug}",
        idp_sso_url="https://idp.test/sso",
        idp_certificate="-",
    )


@pytest.mark.django_db
def test_asvs_6_8_3_an_assertion_id_is_accepted_once_per_connection(
    administrator: Membership,
) -> None:
    acme = make_connection(administrator, "acme")
    other = make_connection(administrator, "other")
    expires = clock.now() + timedelta(minutes=5)

    assert remember_assertion(acme, "_a1", expires) is True
    assert remember_assertion(acme, "_a1", expires) is False
    assert remember_assertion(acme, "_a2", expires) is True
    assert remember_assertion(other, "_a1", expires) is True  # keyed by connection


@pytest.mark.django_db(transaction=True)
def test_asvs_6_8_3_an_assertion_posted_by_20_workers_at_once_is_accepted_once(
    administrator: Membership,
) -> None:
    acme = make_connection(administrator, "acme")
    expires = clock.now() + timedelta(minutes=5)
    outcomes = at_once(lambda: remember_assertion(acme, "_concurrent", expires))

    assert sorted(outcomes) == [False] * 19 + [True]
