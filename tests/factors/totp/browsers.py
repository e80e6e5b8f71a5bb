"""Browsers of members with an authenticator app, signed in through the sign-in form (allauth
records the authentication, so changes that need a recent one go through)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client

from tests.conftest import PASSWORD
from twofold import clock
from twofold.factors.totp import codes


def signed_in(email: str, sms_outbox: Any = None, secret: str | None = None) -> Client:
    """A browser in which the member signed in just now (password, and a second factor)."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    if response["Location"] == "/accounts/2fa/":
        code = codes.code_at(secret, clock.now()) if secret else sms_outbox.last_code()
        response = client.post("/accounts/2fa/", {"code": code})
    assert response["Location"] == "/"
    return client


def other_device(email: str, secret: str) -> Client:
    """Signed in with the code of the previous time step (still accepted), so that the code
    of this step stays unused for the next sign-in."""
    client = Client()
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    earlier = codes.code_at(secret, clock.now() - timedelta(seconds=30))
    assert client.post("/accounts/2fa/", {"code": earlier})["Location"] == "/"
    return client
