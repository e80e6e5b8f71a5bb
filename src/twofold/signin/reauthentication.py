"""Fresh authentication before security changes (ASVS 7.5.1; DESIGN.md "re-authentication").

A change to 2FA needs an authentication (sign-in or re-authentication) within the last
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (5 minutes); binding a new phone number needs that
authentication to include the second factor (aal2).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase

from twofold.errors import ReauthenticationRequired
from twofold.signin import assurance


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
