"""One signal for every way a signed-in session ends, for the packages above that tie something
to a session (the identity provider ends the applications' tokens: idp/session_end.py).

Sent just before the session is gone, with its data still readable, by sign-out and the
timeouts (Django's ``user_logged_out``, which ``logout()`` sends before it flushes) and by every
ending of a session from the outside (``member_sessions``: one session from the list, the other
sessions, all of a member's at a deactivation, a 2FA reset or an administrator's sign-out).
A receiver must be idempotent: a session may be announced by two of these ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.contrib.auth.base_user import AbstractBaseUser
from django.dispatch import Signal
from django.http import HttpRequest

# Arguments: user (the member), data (the session's data, a mapping).
session_ending = Signal()
# Every session of a member ended at once (deactivation, 2FA reset, an administrator's
# sign-out): also those the store no longer lists. Argument: user.
signed_out_everywhere = Signal()


def announce(user: AbstractBaseUser, data: Mapping[str, Any]) -> None:
    session_ending.send(sender=__name__, user=user, data=data)


def announce_everywhere(user: AbstractBaseUser) -> None:
    signed_out_everywhere.send(sender=__name__, user=user)


def _signed_out(
    sender: Any, request: HttpRequest, user: AbstractBaseUser | None, **kwargs: Any
) -> None:
    if user is not None and hasattr(request, "session"):
        announce(user, dict(request.session.items()))


def connect() -> None:
    auth_signals.user_logged_out.connect(_signed_out, dispatch_uid="sessions.ending")
