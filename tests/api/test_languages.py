"""The member's language in the JSON API (``/api/v1/me/preferences``) and the account's default
(``/api/v1/organization``): the same order as the pages, member > account > Accept-Language."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.test_urls import error_codes, send
from twofold.organizations.models import Membership, Organization
from twofold.users.models import User

PREFERENCES = "/api/v1/me/preferences"


@pytest.mark.parametrize(
    ("choice", "default", "browser", "spoken"),
    [
        pytest.param("fr", "de", "en", "fr", id="member-choice-first"),
        pytest.param("", "de", "fr", "de", id="then-account-default"),
        pytest.param("", "", "fr", "fr", id="then-browser"),
    ],
)
def test_effective_language_is_member_then_account_then_browser(
    member_client: Client, member: Membership, choice: str, default: str, browser: str, spoken: str
) -> None:
    User.objects.filter(pk=member.user.pk).update(language=choice)
    Organization.objects.filter(pk=member.organization_id).update(default_language=default)

    response = member_client.get(PREFERENCES, headers={"accept-language": browser})

    assert response.json()["data"] == {"language": choice or None, "effective_language": spoken}
    assert response["Content-Language"] == spoken


def test_member_chooses_a_language_and_errors_then_speak_it(
    member_client: Client, member: Membership
) -> None:
    response = send(member_client, "PATCH", PREFERENCES, {"language": "de"})

    assert response.json()["data"] == {"language": "de", "effective_language": "de"}
    assert User.objects.get(pk=member.user.pk).language == "de"
    refused = send(member_client, "PATCH", "/api/v1/organization", {"name": "Neu"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["message"] == (
        "Nur Administratoren dieses Kontos können das tun."
    )


@pytest.mark.parametrize("cleared", ["", None])
def test_member_goes_back_to_the_accounts_default(
    member_client: Client, member: Membership, cleared: str | None
) -> None:
    User.objects.filter(pk=member.user.pk).update(language="fr")
    Organization.objects.filter(pk=member.organization_id).update(default_language="de")

    response = send(member_client, "PATCH", PREFERENCES, {"language": cleared})

    assert response.json()["data"] == {"language": None, "effective_language": "de"}


def test_a_language_twofold_does_not_speak_is_refused(member_client: Client) -> None:
    response = send(member_client, "PATCH", PREFERENCES, {"language": "xx"})

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "language")]


def test_administrator_sets_the_accounts_default_language(
    administrator_client: Client, administrator: Membership
) -> None:
    response = send(
        administrator_client, "PATCH", "/api/v1/organization", {"default_language": "fr"}
    )

    assert response.status_code == 200
    assert response.json()["data"]["default_language"] == "fr"
    assert response.json()["data"]["name"] == "acme.test Inc."  # left out: kept
    assert Organization.objects.get().default_language == "fr"


def test_an_unknown_default_language_is_refused(administrator_client: Client) -> None:
    response = send(
        administrator_client, "PATCH", "/api/v1/organization", {"default_language": "x"}
    )

    assert response.status_code == 400
    assert error_codes(response) == [("invalid_choice", "default_language")]
