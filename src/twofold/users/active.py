"""An active member: the rule every step of sign-in and every text checks (a member deactivated
while a login waited gets no further)."""

from __future__ import annotations

from django.utils.translation import gettext

from twofold.errors import NotAllowed
from twofold.users.models import User


def require_active(user: User) -> None:
    """A deactivated member cannot sign in: no text for them (it would only cost and alarm)."""
    if not user.is_active:
        raise NotAllowed(
            gettext("This account is deactivated. Ask an administrator of your account."),
            code="account_inactive",
        )
