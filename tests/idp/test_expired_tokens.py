"""Expired tokens and codes go (idp/expired_tokens.py, ``twofold purge-tokens``), by the rules of
django-oauth-toolkit's ``clear_expired``: the same rows, and a reused token still recognised."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from oauth2_provider.models import AccessToken, IDToken, RefreshToken, clear_expired

from twofold import cli, clock
from twofold.idp import expired_tokens
from twofold.idp.models import Application, Grant
from twofold.organizations.models import Membership

LIFETIME = timedelta(days=30)  # REFRESH_TOKEN_EXPIRE_SECONDS


def _access(user: Any, app: Application, expires: datetime) -> AccessToken:
    return AccessToken.objects.create(
        user=user, application=app, token=secrets.token_urlsafe(), expires=expires
    )


def _refresh(user: Any, app: Application, access: AccessToken | None, **fields: Any) -> Any:
    return RefreshToken.objects.create(
        user=user, application=app, token=secrets.token_urlsafe(), access_token=access, **fields
    )


@pytest.fixture
def tokens(member: Membership) -> dict[str, Any]:
    """Each kind of row, on either side of its rule."""
    user, now = member.user, clock.now()
    app = Application.objects.create(
        name="Wiki",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://wiki.test/callback",
        user=None,
    )
    live = _access(user, app, now + timedelta(minutes=5))
    idle = _access(user, app, now - LIFETIME - timedelta(days=1))
    rows: dict[str, Any] = {
        "live refresh": _refresh(user, app, live),
        "idle refresh": _refresh(user, app, idle),
        "refresh without access token": _refresh(user, app, None),
        "lately revoked refresh": _refresh(user, app, None, revoked=now - timedelta(days=1)),
        "long revoked refresh": _refresh(user, app, None, revoked=now - LIFETIME - timedelta(1)),
        "live access": live,
        "idle access": idle,
        "expired access alone": _access(user, app, now - timedelta(minutes=1)),
        "expired ID token alone": IDToken.objects.create(
            user=user, application=app, expires=now - timedelta(minutes=1)
        ),
        "live ID token": IDToken.objects.create(
            user=user, application=app, expires=now + timedelta(minutes=5)
        ),
    }
    for name, expires in (("expired code", -1), ("live code", 1)):
        rows[name] = Grant.objects.create(
            user=user,
            application=app,
            code=secrets.token_urlsafe(),
            redirect_uri="https://x",
            expires=now + timedelta(minutes=expires),
        )
    return rows


def remaining(rows: dict[str, Any]) -> set[str]:
    return {name for name, row in rows.items() if type(row).objects.filter(pk=row.pk).exists()}


def test_purge_deletes_the_rows_the_toolkits_clear_expired_deletes(tokens: dict[str, Any]) -> None:
    with transaction.atomic():
        clear_expired()
        left_by_the_toolkit = remaining(tokens)
        transaction.set_rollback(True)
    assert remaining(tokens) == set(tokens)

    done = expired_tokens.purge_expired(now=clock.now())

    assert remaining(tokens) == left_by_the_toolkit
    assert left_by_the_toolkit == {
        "live refresh",
        "live access",
        "live ID token",
        "live code",
        "lately revoked refresh",  # a reuse of it must still revoke its family (RFC 9700 4.14.2)
    }
    assert (done.refresh_tokens, done.access_tokens, done.id_tokens, done.codes) == (3, 2, 1, 1)


def test_purge_tokens_command_counts_then_deletes(
    tokens: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["purge-tokens", "--dry-run"]) == 0
    assert (
        "Would delete 3 refresh tokens, 1 access tokens, 1 ID tokens and 1 authorization codes"
        in (capsys.readouterr().out)
    )
    assert remaining(tokens) == set(tokens)
    assert cli.main(["purge-tokens"]) == 0
    assert "Deleted 3 refresh tokens, 2 access tokens, 1 ID tokens and 1 authorization codes" in (
        capsys.readouterr().out
    )
