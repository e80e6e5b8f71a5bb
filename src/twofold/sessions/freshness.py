"""The one freshness rule: a recent enough authentication before a security change (ASVS 7.5.1;
DESIGN.md "re-authentication before any security change").

A change to how a member signs in needs an authentication (sign-in or re-authentication) of this
session within the last ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (5 minutes); binding a new
factor beside one the member has needs that authentication to include a second factor (aal2),
so a stolen password alone cannot add the thief's factor (``factors/binding.py``). Pages and API
call :func:`require_fresh` through thin adapters (``web/decorators.py``, ``api/endpoint.py``).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext

from twofold.errors import ReauthenticationRequired
from twofold.sessions import assurance


def recently_authenticated(
    session: SessionBase, user: AbstractBaseUser, *, second_factor: bool = False
) -> bool:
    """An authentication of ``user`` in this session within the window; with ``second_factor``,
    one of a second factor (the newest record decides first: records are in time order)."""
    window = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    now = time.time()
    for record in reversed(assurance.records(session, user)):
        if now - float(record.get("at", 0)) >= window:
            return False
        if not second_factor or record.get("method") == "mfa":
            return True
    return False


def require_fresh(
    session: SessionBase, user: AbstractBaseUser, *, second_factor: bool = False
) -> None:
    """Refuse (``ReauthenticationRequired``, 401) unless :func:`recently_authenticated`.

    Check the actor's role first, so that a member hears 403 however recently they signed in.
    """
    if recently_authenticated(session, user, second_factor=second_factor):
        return
    if second_factor:
        raise ReauthenticationRequired(
            gettext("Confirm it is you with your second factor first."), second_factor=True
        )
    raise ReauthenticationRequired(gettext("Confirm it is you first."))
