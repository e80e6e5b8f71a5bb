"""Stamp each sign-in with its time: the absolute session timeout counts from here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from twofold.signin import timeouts


@receiver(user_logged_in)
def stamp_sign_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        timeouts.start(request.session)
