"""The identity providers a member can sign in with, and which of them they linked."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from twofold.users.models import User


@dataclass(frozen=True)
class IdentityProvider:
    provider_id: str
    name: str
    linked: SocialAccount | None


def configured() -> list[tuple[str, str]]:
    """(provider_id, name) of each OpenID Connect provider offered, in settings order."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    return [(str(app["provider_id"]), str(app["name"])) for app in apps]


def identity_providers(user: User) -> list[IdentityProvider]:
    linked = {a.provider: a for a in SocialAccount.objects.filter(user=user)}
    return [IdentityProvider(pid, name, linked.get(pid)) for pid, name in configured()]
