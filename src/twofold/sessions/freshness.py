"""Fresh authentication before security changes (ASVS 7.5.1; DESIGN.md "re-authentication").

A change to 2FA needs an authentication (sign-in or re-authentication) within the last
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (5 minutes); binding a new phone number needs that
authentication to include the second factor (aal2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from twofold.errors import ReauthenticationRequired
from twofold.factors.registry import has_second_factor
from twofold.sessions import assurance


def recently_authenticated(
    session: SessionBase, user: AbstractBaseUser, *, second_factor: bool = False
) -> bool:
    window = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    now = time.time()
    for record in reversed(assurance.records(session, user)):
        if now - float(record.get("at", 0)) >= window:
            return False
        if not second_factor or record.get("method") == "mfa":
            return True
    return False


def require_recent_authentication(session: SessionBase, user: AbstractBaseUser) -> None:
    """The API's answer to a stale session: 401 with the password re-authentication flow.

    Check the actor's role first, so that a member hears 403 however recently they signed in.
    """
    if not recently_authenticated(session, user):
        raise ReauthenticationRequired(
            "Confirm your password first (POST /_allauth/{client}/v1/auth/reauthenticate)."
        )


View = Callable[..., HttpResponse]


def _stale(request: HttpRequest) -> bool:
    return not recently_authenticated(request.session, request.user)  # type: ignore[arg-type]


def fresh_authentication(view: View) -> View:
    """Pages: signed in, and authenticated within the last 5 minutes (ASVS 7.5.1); otherwise
    allauth's re-authentication page, which resumes this request after."""
    # allauth alone counts only explicit re-authentications; the shared rule (the API's too)
    # also counts the sign-in itself.
    return login_required(reauthentication_required(view, enabled=_stale))


def second_factor_confirmation(request: HttpRequest) -> str | None:
    """Where a member who already has a factor confirms it before binding another (aal2, as
    for a new phone number: a stolen password alone must not add the thief's factor); None
    when no confirmation is needed."""
    user = request.user
    if not has_second_factor(user) or recently_authenticated(  # type: ignore[arg-type]
        request.session,
        user,  # type: ignore[arg-type]
        second_factor=True,
    ):
        return None
    return (
        f"{reverse('second_factor_reauthenticate')}?{urlencode({'next': request.get_full_path()})}"
    )


def binding_authentication(view: View) -> View:
    """Pages that bind a new factor: :func:`fresh_authentication`, then, for a member who has a
    factor, :func:`second_factor_confirmation` first."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        confirm = second_factor_confirmation(request)
        return redirect(confirm) if confirm else view(request, *args, **kwargs)

    return fresh_authentication(checked)
