"""The country a mobile number is read in (issue 19): the account's setting, set by its
administrators on the page and in the API through one flow, first taken from the founder's
browser region at sign-up; Switzerland when neither says."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.test_urls import error_codes, send
from tests.conftest import freshly_signed_in
from twofold.organizations import flows
from twofold.organizations.models import Membership, Organization

PHONE_PAGE = "/settings/security/2fa/enable/"


@pytest.mark.parametrize(
    ("accept_language", "region"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "DE"),
        ("fr-CH", "CH"),
        ("de,en-GB;q=0.7", "GB"),
        ("en", None),
        ("", None),
        ("xx-ZZ", None),
    ],
)
def test_the_browser_region_is_read_from_accept_language(
    accept_language: str, region: str | None
) -> None:
    assert flows.region_of(accept_language) == region


def test_a_sign_up_takes_the_country_of_the_founders_browser(db: None) -> None:
    answer = Client().post(
        "/accounts/signup/",
        {
            "email": "founder@berlin.test",
            "password1": "the founder's own passphrase",
            "organization_name": "B",
        },
        headers={"accept-language": "de-DE,de;q=0.9"},
    )
    assert answer.status_code == 302
    assert Organization.objects.get(name="B").default_country == "DE"


def test_without_a_region_the_sane_default_stays(db: None) -> None:
    answer = Client().post(
        "/accounts/signup/",
        {
            "email": "someone@plain.test",
            "password1": "the founder's own passphrase",
            "organization_name": "P",
        },
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 302
    assert Organization.objects.get(name="P").default_country == flows.DEFAULT_COUNTRY


def test_the_administrator_sets_it_on_the_page_and_members_see_it_preselected(
    administrator: Membership, member: Membership
) -> None:
    admin = freshly_signed_in(Client(), administrator)
    admin.post("/account/", {"name": "Acme", "default_country": "FR"})

    assert Organization.objects.get(pk=administrator.organization_id).default_country == "FR"
    page = freshly_signed_in(Client(), member).get(PHONE_PAGE).content.decode()
    assert '<option value="FR" selected>' in page


def test_the_api_sets_it_through_the_same_flow(administrator: Membership) -> None:
    admin = freshly_signed_in(Client(), administrator)

    done = send(admin, "PATCH", "/api/v1/organization", {"default_country": "AT"})
    refused = send(admin, "PATCH", "/api/v1/organization", {"default_country": "XX"})

    assert done.status_code == 200
    assert done.json()["data"]["default_country"] == "AT"
    assert refused.status_code == 400
    assert error_codes(refused)[0][1] == "default_country"
