""" "Account & Security" → "Applications": an administrator registers, changes, rotates the secret
of and deletes the account's applications (idp/applications.py, through the pages of
web/idp/applications.py). The secret is on the page that answers the registration or rotation,
and nowhere else."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import freshly_signed_in, signed_in
from tests.idp.test_code_flow import REDIRECT
from twofold.idp.models import Application
from twofold.organizations.models import Membership

pytestmark = pytest.mark.django_db

APPLICATIONS = "/account/applications/"
NEW = {
    "name": "Acme Wiki",
    "client_type": "confidential",
    "redirect_uris": REDIRECT,
    "post_logout_redirect_uris": "",
    "scopes": ["openid", "profile", "email"],
}


@pytest.fixture
def administrator_client(administrator: Membership) -> Client:
    return freshly_signed_in(Client(), administrator)


def secret_on(page: str) -> str:
    found = re.search(r'<code id="client-secret">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


def test_account_settings_lead_to_the_applications(administrator_client: Client) -> None:
    page = administrator_client.get("/account/").content.decode()
    assert f'href="{APPLICATIONS}"' in page


def test_registering_shows_the_client_id_and_secret_once(administrator_client: Client) -> None:
    answer = administrator_client.post(APPLICATIONS, NEW)
    assert answer.status_code == 201
    page = answer.content.decode()
    application = Application.objects.get()
    assert application.client_id in page
    secret = secret_on(page)
    assert secret not in application.client_secret  # stored hashed
    for later in (APPLICATIONS, f"{APPLICATIONS}{application.pk}/"):
        assert secret not in administrator_client.get(later).content.decode()
    assert "no-store" in answer["Cache-Control"]


def test_a_bad_redirect_uri_is_said_next_to_its_field_and_registers_nothing(
    administrator_client: Client,
) -> None:
    answer = administrator_client.post(
        APPLICATIONS, {**NEW, "redirect_uris": "https://a.example/#x"}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "must not have a fragment" in page
    assert 'value="Acme Wiki"' in page  # what was typed stays
    assert not Application.objects.exists()


def test_a_public_application_has_no_secret(administrator_client: Client) -> None:
    answer = administrator_client.post(APPLICATIONS, {**NEW, "client_type": "public"})
    assert answer.status_code == 201
    assert 'id="client-secret"' not in answer.content.decode()
    assert Application.objects.get().client_type == "public"


def test_changing_the_redirect_uris(administrator_client: Client) -> None:
    administrator_client.post(APPLICATIONS, NEW)
    application = Application.objects.get()
    changed = {
        **NEW,
        "redirect_uris": "https://wiki.acme.example/cb\nhttps://wiki.acme.example/cb2",
    }
    answer = administrator_client.post(f"{APPLICATIONS}{application.pk}/", changed)
    assert answer.status_code == 302
    application.refresh_from_db()
    assert application.redirect_uris.split() == [
        "https://wiki.acme.example/cb",
        "https://wiki.acme.example/cb2",
    ]


def test_rotating_shows_the_new_secret_and_says_how_long_the_old_one_works(
    administrator_client: Client,
) -> None:
    administrator_client.post(APPLICATIONS, NEW)
    application = Application.objects.get()
    answer = administrator_client.post(f"{APPLICATIONS}{application.pk}/secret")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert secret_on(page)
    assert "old secret keeps working for 24 hours" in page
    detail = administrator_client.get(f"{APPLICATIONS}{application.pk}/").content.decode()
    assert "End the old secret now" in detail
    ended = administrator_client.post(f"{APPLICATIONS}{application.pk}/old-secret/end")
    assert ended.status_code == 302
    application.refresh_from_db()
    assert application.previous_client_secret == ""


def test_deleting_asks_first(administrator_client: Client) -> None:
    administrator_client.post(APPLICATIONS, NEW)
    application = Application.objects.get()
    path = f"{APPLICATIONS}{application.pk}/delete"
    assert "Delete the application" in administrator_client.get(path).content.decode()
    assert Application.objects.exists()
    assert administrator_client.post(path).status_code == 302
    assert not Application.objects.exists()


def test_another_accounts_application_is_a_404(
    administrator_client: Client, other_administrator: Membership
) -> None:
    freshly_signed_in(Client(), other_administrator).post(APPLICATIONS, NEW)
    theirs = Application.objects.get()
    for path in ("/", "/delete"):
        assert administrator_client.get(f"{APPLICATIONS}{theirs.pk}{path}").status_code == 404
    assert administrator_client.post(f"{APPLICATIONS}{theirs.pk}/secret").status_code == 404
    assert administrator_client.post(f"{APPLICATIONS}{theirs.pk}/delete").status_code == 404
    assert Application.objects.filter(pk=theirs.pk).exists()


def test_a_member_who_is_no_administrator_is_refused(member: Membership) -> None:
    client = freshly_signed_in(Client(), member)
    assert client.get(APPLICATIONS).status_code == 403
    assert client.post(APPLICATIONS, NEW).status_code == 403
    assert not Application.objects.exists()


def test_asvs_7_5_1_a_stale_session_is_led_to_reauthentication(administrator: Membership) -> None:
    client = signed_in(Client(), administrator)
    answer = client.post(APPLICATIONS, NEW)
    assert answer.status_code == 302
    assert "reauthenticate" in answer["Location"]
    assert not Application.objects.exists()
