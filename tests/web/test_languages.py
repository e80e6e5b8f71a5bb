"""The language of pages: the member's choice, else the account's default, else the browser's;
``<html lang>`` follows, and the switch on every page changes it (docs/languages.md)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from tests.conftest import signed_in
from twofold.factors.sms.forms import PhoneForm
from twofold.organizations.models import Membership
from twofold.users.models import User

SIGN_IN = "/accounts/login/"
HOME = "/"
# A word of each page in each language, and the page's language as <html lang> says it.
SIGN_IN_WORD = {"en": "Sign in", "de": "Anmelden", "fr": "Se connecter"}
HOME_WORD = {"en": "Your sessions", "de": "Ihre Sitzungen", "fr": "Vos sessions"}


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', page)
    assert found, "no <html lang>"
    return found.group(1)


def choose(membership: Membership, *, member: str = "", account: str = "") -> None:
    membership.user.language = member
    membership.user.save(update_fields=["language"])
    membership.organization.default_language = account
    membership.organization.save(update_fields=["default_language"])


@pytest.mark.parametrize("browser", ["en", "de", "fr"])
def test_sign_in_page_speaks_the_browsers_language(db: None, browser: str) -> None:
    page = Client().get(SIGN_IN, headers={"accept-language": browser}).content.decode()

    assert html_lang(page) == browser
    assert f">{SIGN_IN_WORD[browser]}</h1>" in page


def test_an_unknown_browser_language_falls_back_to_english(db: None) -> None:
    page = Client().get(SIGN_IN, headers={"accept-language": "ja"}).content.decode()

    assert html_lang(page) == "en"
    assert ">Sign in</h1>" in page


@pytest.mark.parametrize(
    ("choice", "default", "browser", "spoken"),
    [
        pytest.param("fr", "de", "en", "fr", id="member-choice-first"),
        pytest.param("", "de", "fr", "de", id="then-account-default"),
        pytest.param("", "", "fr", "fr", id="then-browser"),
        pytest.param("", "", "", "en", id="else-english"),
    ],
)
def test_member_choice_then_account_default_then_browser(
    member_client: Client, member: Membership, choice: str, default: str, browser: str, spoken: str
) -> None:
    choose(member, member=choice, account=default)
    headers = {"accept-language": browser} if browser else {}

    response = member_client.get(HOME, headers=headers)

    page = response.content.decode()
    assert html_lang(page) == spoken
    assert HOME_WORD[spoken] in page
    assert response["Content-Language"] == spoken


def test_the_switch_is_on_the_sign_in_page_and_sets_this_browsers_language(db: None) -> None:
    client = Client()
    page = client.get(SIGN_IN).content.decode()
    assert 'action="/language"' in page
    assert '<button type="submit" name="language" value="de" lang="de"' in page

    response = client.post("/language", {"language": "de", "next": SIGN_IN})

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert html_lang(client.get(SIGN_IN).content.decode()) == "de"


def test_the_switch_saves_the_choice_with_a_signed_in_member(
    member_client: Client, member: Membership
) -> None:
    member_client.post("/language", {"language": "fr", "next": HOME})

    assert User.objects.get(pk=member.user.pk).language == "fr"
    # Another browser, where the member signs in: the saved choice, not the browser's.
    elsewhere = signed_in(Client(), member)
    page = elsewhere.get(HOME, headers={"accept-language": "de"}).content.decode()
    assert html_lang(page) == "fr"


@pytest.mark.parametrize("next_url", ["https://evil.test/", "//evil.test/x"])
def test_the_switch_goes_back_only_to_this_site(db: None, next_url: str) -> None:
    response = Client().post("/language", {"language": "de", "next": next_url})

    assert response["Location"] == "/"


def test_the_switch_ignores_a_language_twofold_does_not_speak(
    member_client: Client, member: Membership
) -> None:
    response = member_client.post("/language", {"language": "xx", "next": HOME})

    assert response.status_code == 302
    assert User.objects.get(pk=member.user.pk).language == ""
    assert "django_language" not in response.cookies


def test_the_switch_takes_only_post(db: None) -> None:
    assert Client().get("/language?language=de").status_code == 405


def test_administrator_sets_the_accounts_default_on_account_and_security(
    administrator_client: Client, administrator: Membership
) -> None:
    page = administrator_client.get("/account/").content.decode()
    assert 'name="default_language"' in page

    administrator_client.post("/account/", {"name": "Acme AG", "default_language": "de"})

    administrator.organization.refresh_from_db()
    assert administrator.organization.default_language == "de"
    assert html_lang(administrator_client.get(HOME).content.decode()) == "de"


def test_the_switch_names_each_language_in_itself(db: None) -> None:
    page = Client().get(SIGN_IN, headers={"accept-language": "de"}).content.decode()

    for code, name in (("en", "English"), ("de", "Deutsch"), ("fr", "Français")):
        assert f'value="{code}" lang="{code}" class="linklike"' in page
        assert f">{name}</button>" in page
    assert 'value="de" lang="de" class="linklike" aria-current="true" disabled>' in page


@pytest.mark.parametrize(
    ("language", "switzerland", "germany"),
    [
        ("en", "Switzerland", "Germany"),
        ("de", "Schweiz", "Deutschland"),
        ("fr", "Suisse", "Allemagne"),
    ],
)
def test_the_countries_of_the_phone_form_are_named_in_the_pages_language(
    language: str, switzerland: str, germany: str
) -> None:
    with translation.override(language):
        choices = dict(PhoneForm().fields["country"].choices)

    assert choices["CH"] == f"{switzerland} (+41)"
    assert choices["DE"] == f"{germany} (+49)"


def test_a_request_leaves_no_language_behind_on_its_thread(db: None) -> None:
    # What runs next on the thread without a request (a text, an email) starts from the default.
    Client().get(SIGN_IN, headers={"accept-language": "de"})

    assert translation.get_language() == "en"
