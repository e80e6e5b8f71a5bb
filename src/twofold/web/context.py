"""What every page needs to draw the navigation: the member and whether they administer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from twofold.organizations.models import membership_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = membership_of(user)
    return {
        "membership": membership,
        "is_administrator": bool(membership and membership.is_administrator),
    }
