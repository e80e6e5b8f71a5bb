"""Session bookkeeping at sign-in and re-authentication."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import authentication_step_completed
from allauth.usersessions.models import UserSession
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from twofold.signin import timeouts


@receiver(user_logged_in)
def stamp_sign_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """The absolute session timeout counts from here. (Django's login() already rotated the id.)"""
    if request is not None and hasattr(request, "session"):
        timeouts.start(request.session)


@receiver(authentication_step_completed)
def rotate_session_on_reauthentication(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """A new session id after re-authentication too (ASVS 7.2.4).

    A step completed while someone is already signed in is a re-authentication. App sessions
    are exempt: their id is the app's session token, which the app could not learn anew.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    if request.headers.get(timeouts.SESSION_TOKEN_HEADER):
        return
    old_key = request.session.session_key
    request.session.cycle_key()
    # Keep the session on the member's device list, so ending all sessions still reaches it.
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
