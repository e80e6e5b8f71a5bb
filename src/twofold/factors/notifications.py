"""Emails to a member about their second factors (ASVS 6.3.7: told of every change)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings

from twofold.errors import StrOrPromise
from twofold.organizations.language import in_language_of
from twofold.users.models import User


def _send(user: User, template: str, **context: Any) -> None:
    # render_mail, not send_mail: flows run without a request.
    with in_language_of(user):  # the recipient's, not the language of whoever caused it
        message = get_adapter().render_mail(
            f"factors/email/{template}",
            user.email,
            {"user": user, "public_url": settings.TWOFOLD.public_url, **context},
        )
    message.send()


def send_two_factor_enabled(user: User, masked_phone: str | None) -> None:
    """``masked_phone`` None: turned on with an authenticator app."""
    _send(user, "enabled", masked_phone=masked_phone)


def send_factor_added(user: User, factor: StrOrPromise) -> None:
    """``factor``: what the member reads, e.g. "Authenticator app"."""
    _send(user, "factor_added", factor=factor)


def send_factor_removed(user: User, factor: StrOrPromise) -> None:
    _send(user, "factor_removed", factor=factor)


def send_two_factor_disabled(user: User) -> None:
    _send(user, "disabled")


def send_phone_changed(user: User, masked_phone: str) -> None:
    _send(user, "phone_changed", masked_phone=masked_phone)


def send_backup_code_used(user: User, remaining: int) -> None:
    _send(user, "backup_code_used", remaining=remaining)


def send_backup_codes_regenerated(user: User) -> None:
    _send(user, "backup_codes_regenerated")


def send_second_factor_locked(user: User) -> None:
    _send(user, "locked")


def send_two_factor_reset(user: User, *, administrator: User, required: bool) -> None:
    """``required``: the account requires 2FA, so the member sets it up again at sign-in."""
    _send(user, "reset", administrator=administrator.get_full_name(), required=required)
