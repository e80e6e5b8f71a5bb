"""Rotating the provider's signing key (`twofold rotate-signing-key`, idp/signing_keys.py): the
new key signs every token, the retired one stays in the JWKS until the last token it signed has
expired, each named by its RFC 7638 thumbprint as django-oauth-toolkit names it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from oauth2_provider.settings import oauth2_settings

from tests.idp.test_access_tokens import decoded
from tests.idp.test_code_flow import application  # noqa: F401 (a fixture)
from tests.idp.test_session_end import (
    Receiver,
    app,  # noqa: F401 (a fixture)
    receiver,  # noqa: F401 (a fixture)
    signed_in_to,
    verified_logout_token,
)
from twofold import clock
from twofold.config import env, signing_keys
from twofold.idp import backchannel
from twofold.idp.models import Application
from twofold.idp.signing_keys import MARGIN, retention
from twofold.organizations.models import Membership

pytestmark = pytest.mark.django_db


def start(settings: Any, data_dir: Path, now: Any) -> None:
    """What each instance does at start-up: read the keys (config/env.py) and hand them to the
    toolkit as config/settings.py does."""
    loaded = env.load({"TWOFOLD_DATA_DIR": str(data_dir)}, now=now)
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": str(loaded.oidc_private_key),
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": list(loaded.oidc_previous_keys),
    }
    oauth2_settings.reload()


def published_kids() -> set[str]:
    answer = Client().get("/oauth/.well-known/jwks.json").json()
    return {key["kid"] for key in answer["keys"]}


def signing_kid() -> str:
    return signing_keys.kid_of(oauth2_settings.OIDC_RSA_PRIVATE_KEY)


def test_rotate_signing_key_keeps_the_old_key_published_until_its_tokens_expired(
    settings: Any,
    tmp_path: Path,
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    now = clock.now()
    start(settings, tmp_path, now)
    old = signing_kid()
    _, before = signed_in_to(application, administrator)

    done = signing_keys.rotate(tmp_path, now=now, keep_for=retention())
    start(settings, tmp_path, now)
    assert published_kids() == {old, done.kid}
    id_header, _ = decoded(before["id_token"])  # verified with the JWKS, as a relying party does
    access_header, _ = decoded(before["access_token"])
    assert id_header["kid"] == access_header["kid"] == old

    start(settings, tmp_path, now + retention() - timedelta(seconds=1))
    assert published_kids() == {old, done.kid}
    start(settings, tmp_path, now + retention())
    assert published_kids() == {done.kid}


def test_after_a_rotation_id_access_and_logout_tokens_are_signed_with_the_new_key(
    settings: Any,
    tmp_path: Path,
    app: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    receiver: Receiver,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    start(settings, tmp_path, clock.now())
    old = signing_kid()
    done = signing_keys.rotate(tmp_path, now=clock.now(), keep_for=retention())
    start(settings, tmp_path, clock.now())
    browser, tokens = signed_in_to(app, administrator)
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/logout/")
    [logout_token] = receiver.tokens
    kids = {
        "id": decoded(tokens["id_token"])[0]["kid"],
        "access": decoded(tokens["access_token"])[0]["kid"],
        "logout": verified_logout_token(logout_token)[0]["kid"],
    }
    assert kids == {"id": done.kid, "access": done.kid, "logout": done.kid} != old


def test_an_id_token_hint_signed_before_the_rotation_still_asks_to_sign_out(
    settings: Any,
    tmp_path: Path,
    app: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The toolkit checks an ``id_token_hint`` with the signing key alone; Twofold with every
    published key (idp/validator.py)."""
    Application.objects.update(post_logout_redirect_uris="http://127.0.0.1:9000/signed-out")
    start(settings, tmp_path, clock.now())
    browser, before = signed_in_to(app, administrator)
    signing_keys.rotate(tmp_path, now=clock.now(), keep_for=retention())
    start(settings, tmp_path, clock.now())
    asked = browser.get(
        "/oauth/logout/",
        {
            "id_token_hint": before["id_token"],
            "post_logout_redirect_uri": "http://127.0.0.1:9000/signed-out",
        },
    )
    page = asked.content.decode()
    assert asked.status_code == 200, page[:500]
    assert "Sign out of Acme Wiki?" in page
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post("/oauth/logout/", {**hidden, "allow": "Logout"})
    assert done.status_code == 302
    assert done["Location"].startswith("http://127.0.0.1:9000/signed-out")


@pytest.mark.parametrize("expired_hints", [True, False])
def test_a_retired_key_is_published_as_long_as_anything_it_signed_is_accepted(
    settings: Any, expired_hints: bool
) -> None:
    """Tokens until they expire; an ID token as a logout hint, while expired ones are accepted,
    as long as its session may last."""
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": expired_hints,
    }
    lifetimes = {
        "ID token": timedelta(seconds=settings.OAUTH2_PROVIDER["ID_TOKEN_EXPIRE_SECONDS"]),
        "access token": timedelta(seconds=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]),
        "logout token": backchannel.TOKEN_LIFETIME,
    }
    if expired_hints:
        lifetimes["session, for the ID token as a hint"] = timedelta(
            seconds=settings.SESSION_COOKIE_AGE
        )
    assert retention() == max(lifetimes.values()) + MARGIN
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ID_TOKEN_EXPIRE_SECONDS": 2 * 86400}
    oauth2_settings.reload()
    assert retention() == timedelta(days=2) + MARGIN


def test_an_expired_id_token_hint_signed_before_the_rotation_is_still_accepted_later(
    settings: Any,
    tmp_path: Path,
    app: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    """An hour after the rotation (past every token's lifetime), the member's session still on:
    the application's expired ID token still names who asks to be signed out."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ID_TOKEN_EXPIRE_SECONDS": -60}
    start(settings, tmp_path, clock.now())
    browser, before = signed_in_to(app, administrator)
    assert decoded(before["id_token"])[1]["exp"] < clock.now().timestamp()
    signing_keys.rotate(tmp_path, now=clock.now(), keep_for=retention())
    start(settings, tmp_path, clock.now() + timedelta(hours=1))
    asked = browser.get("/oauth/logout/", {"id_token_hint": before["id_token"]})
    assert asked.status_code == 200, asked.content[:500]
    assert "Sign out of Acme Wiki?" in asked.content.decode()
