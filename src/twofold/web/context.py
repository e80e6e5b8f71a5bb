"""What every page needs to draw the navigation: the member and whether they administer."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import LOGIN_SESSION_KEY
from django.http import HttpRequest

from twofold.organizations.models import membership_with_organization


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # Halfway through a sign-in (a code or enrollment step): no "Sign in" / "Sign up" links.
        session = getattr(request, "session", None)
        return {"signing_in": session is not None and LOGIN_SESSION_KEY in session}
    membership = membership_with_organization(user)
    return {
        "membership": membership,
        "is_administrator": bool(membership and membership.is_administrator),
    }
