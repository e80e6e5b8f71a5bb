"""Audit linking and unlinking an identity provider (allauth emails the member itself)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.signals import social_account_added, social_account_removed

from twofold.audit.events import Event
from twofold.audit.record import record


def connect() -> None:
    social_account_added.connect(_linked, sender=SocialLogin, dispatch_uid="twofold_sso_linked")
    social_account_removed.connect(
        _unlinked, sender=SocialAccount, dispatch_uid="twofold_sso_unlinked"
    )


def _linked(sender: Any, sociallogin: SocialLogin, **kwargs: Any) -> None:
    detail = {"provider": sociallogin.account.provider}
    record(Event.SSO_LINKED, subject=sociallogin.user, factor="sso", detail=detail)


def _unlinked(sender: Any, socialaccount: SocialAccount, **kwargs: Any) -> None:
    detail = {"provider": socialaccount.provider}
    record(Event.SSO_UNLINKED, subject=socialaccount.user, factor="sso", detail=detail)
