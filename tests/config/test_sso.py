"""TWOFOLD_GOOGLE_* and TWOFOLD_MICROSOFT_*: a provider is offered only when configured."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from twofold.config import env, sso

BASE = {"TWOFOLD_DATA_DIR": "/tmp/twofold-sso-settings"}


def test_providers_are_off_by_default() -> None:
    settings = env.load(BASE)

    assert settings.sso.clients == ()
    assert sso.allauth_providers(settings.sso)["openid_connect"]["APPS"] == []


def test_google_with_id_and_secret_uses_googles_issuer_and_pkce() -> None:
    settings = env.load(
        {**BASE, "TWOFOLD_GOOGLE_CLIENT_ID": "id", "TWOFOLD_GOOGLE_CLIENT_SECRET": "s3cret"}
    )

    [app] = sso.allauth_providers(settings.sso)["openid_connect"]["APPS"]
    assert app["provider_id"] == "google"
    assert app["settings"]["server_url"] == "https://accounts.google.com"
    assert app["settings"]["oauth_pkce_enabled"] is True
    assert "s3cret" not in repr(settings.sso)


def test_microsoft_server_url_can_be_overridden() -> None:
    settings = env.load(
        {
            **BASE,
            "TWOFOLD_MICROSOFT_CLIENT_ID": "id",
            "TWOFOLD_MICROSOFT_CLIENT_SECRET": "secret",
            "TWOFOLD_MICROSOFT_SERVER_URL": "http://127.0.0.1:9/tenant/v2.0/",
        }
    )

    assert settings.sso.microsoft is not None
    assert settings.sso.microsoft.server_url == "http://127.0.0.1:9/tenant/v2.0"


@pytest.mark.parametrize("given", ["TWOFOLD_GOOGLE_CLIENT_ID", "TWOFOLD_MICROSOFT_CLIENT_SECRET"])
def test_client_id_without_secret_is_refused_at_start_up(given: str) -> None:
    with pytest.raises(env.ConfigurationError, match="go together"):
        env.load({**BASE, given: "value"})


@pytest.mark.django_db
def test_sign_in_page_shows_no_identity_provider_when_none_is_configured(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = sso.allauth_providers(sso.SsoSettings(None, None))

    page = Client().get("/accounts/login/").content.decode()

    assert "Sign in with" not in page
