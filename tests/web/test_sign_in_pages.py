"""The pages of a sign-in drawn in plain HTML (issue 7): what a person sees and uses, and what
they cost in queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from twofold import clock
from twofold.config.secret import Secret
from twofold.config.sso import OidcClient, SsoSettings, allauth_providers
from twofold.organizations.models import Membership
from twofold.sso.models import EmailDomain, SamlConnection

# GET /accounts/login/:
#   1 the identity providers set up in the database (allauth's SocialApp, besides the settings)
#   1 whether any account offers "Sign in with SSO"
SIGN_IN_PAGE = 2

# GET / of a signed-in member (after the first, which also takes "Signed in" out of the session):
#   1 the session (with Redis: read from the cache)
#   1 the user
#   1 the membership with its account, named in the top bar (were 2 queries)
HOME_PAGE = 3


def _session_in_cache() -> bool:
    return settings.SESSION_ENGINE.endswith("cached_db")


def test_sign_in_page_draws_the_form_its_links_and_the_passkey(db: Any) -> None:
    page = Client().get("/accounts/login/?next=/account/").content.decode()

    assert "<title>Sign in · Twofold</title>" in page
    assert '<form method="post" action="/accounts/login/">' in page
    assert (
        '<input type="email" name="login" autocomplete="email" placeholder="Email address" '
        'maxlength="320" required id="id_login">'
    ) in page
    assert (
        '<input type="password" name="password" placeholder="Password" '
        'autocomplete="current-password" required aria-describedby="id_password_helptext" '
        'id="id_password">'
    ) in page
    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in page
    assert '<input type="checkbox" name="remember" id="id_remember">' in page
    assert '<a href="/accounts/signup/?next=%2Faccount%2F">sign up</a>' in page
    assert '<button class="button wide" type="submit">Sign in</button>' in page
    assert page.count('<input type="hidden" name="next" value="/account/">') == 2  # and passkey
    assert page.count('name="csrfmiddlewaretoken"') == 3  # and the language switch
    assert 'action="/accounts/2fa/passkey/"' in page
    assert 'id="sign-in-with-passkey">Use a passkey</button>' in page
    assert 'class="sso"' not in page  # no identity provider, no SSO: no heading either


def test_sign_in_page_draws_no_allauth_passkey_or_code_button_because_they_are_off() -> None:
    from allauth.account import app_settings as account_settings
    from allauth.mfa import app_settings as mfa_settings

    # account/login.html leaves them out: turning one on needs its button drawn there first.
    assert not account_settings.LOGIN_BY_CODE_ENABLED
    assert not mfa_settings.PASSKEY_LOGIN_ENABLED


def test_sign_in_page_offers_identity_providers_and_sso(
    administrator: Membership, settings: Any
) -> None:
    google = OidcClient("google", "Google", "id", Secret("secret"), "http://127.0.0.1:9")
    microsoft = OidcClient("microsoft", "Microsoft", "id", Secret("secret"), "http://127.0.0.1:9")
    settings.SOCIALACCOUNT_PROVIDERS = allauth_providers(SsoSettings(google, microsoft))
    connection = SamlConnection.objects.create(
        organization=administrator.organization,
        name="IdP",
        idp_entity_id="urn:idp",
        idp_sso_url="http://127.0.0.1:9/sso",
        idp_certificate="-",
    )
    EmailDomain.objects.create(
        organization=administrator.organization,
        domain="acme.test",
        connection=connection,
        verified_at=clock.now(),  # only a verified domain offers "Sign in with SSO"
    )

    page = Client().get("/accounts/login/").content.decode()

    for provider, name in (("google", "Google"), ("microsoft", "Microsoft")):
        assert f'action="/accounts/oidc/{provider}/login/?process=login"' in page
        assert f'data-provider="{provider}">Sign in with {name}</button>' in page
    assert '<a class="button secondary" href="/accounts/sso/" id="sign-in-with-sso">' in page
    assert page.count('name="csrfmiddlewaretoken"') == 5  # sign-in, 2 providers, passkey, language


def test_sign_in_page_shows_a_wrong_password_and_keeps_the_email(member: Membership) -> None:
    answer = Client().post("/accounts/login/", {"login": member.user.email, "password": "no"})
    page = answer.content.decode()

    assert re.search(r'<div class="alert error" role="alert"><p>The email address', page)
    assert f'name="login" value="{member.user.email}"' in page


def test_sign_in_page_queries(db: Any, django_assert_num_queries: Any) -> None:
    client = Client()
    client.get("/accounts/login/")

    with django_assert_num_queries(SIGN_IN_PAGE):
        client.get("/accounts/login/")


def test_home_page_names_the_member_and_the_account_in_few_queries(
    member: Membership, django_assert_num_queries: Any
) -> None:
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    client.get("/")

    with django_assert_num_queries(HOME_PAGE - 1 if _session_in_cache() else HOME_PAGE):
        page = client.get("/").content.decode()

    assert f">{member.user.email}<" in page
    assert page.count(f">{member.organization.name}<") == 2  # top bar and welcome


@pytest.mark.parametrize("administers", [False, True])
def test_home_page_menu_follows_the_role(
    member: Membership, administrator: Membership, administers: bool
) -> None:
    who = administrator if administers else member
    client = Client()
    client.post("/accounts/login/", {"login": who.user.email, "password": PASSWORD})

    page = client.get("/").content.decode()

    assert ('href="/account/members/"' in page) is administers
    assert 'href="/settings/security/"' in page
