"""What every page needs to draw the navigation: the member and whether they administer."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import LOGIN_SESSION_KEY
from django.http import HttpRequest

from twofold.organizations.models import Membership, membership_of
from twofold.users.models import User

# ``user.membership``'s cache (Django's reverse one-to-one accessor).
_MEMBERSHIP = Membership.user.field.remote_field


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # Halfway through a sign-in (a code or enrollment step): no "Sign in" / "Sign up" links.
        session = getattr(request, "session", None)
        return {"signing_in": session is not None and LOGIN_SESSION_KEY in session}
    membership = _membership_and_organization(user)
    return {
        "membership": membership,
        "is_administrator": bool(membership and membership.is_administrator),
    }


def _membership_and_organization(user: User) -> Membership | None:
    """The member's membership with its organization, which every page names: one query, not two."""
    if not _MEMBERSHIP.is_cached(user):
        rows = Membership.objects.select_related("organization").filter(user=user)[:1]
        found = next(iter(rows), None)
        _MEMBERSHIP.set_cached_value(user, found)
        if found is not None:
            Membership.user.field.set_cached_value(found, user)
    return membership_of(user)
