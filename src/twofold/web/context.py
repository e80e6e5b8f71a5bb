"""What every page needs to draw the navigation: the member and whether they administer."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import LOGIN_SESSION_KEY
from django.http import HttpRequest

from twofold import clock
from twofold.factors.member_factors import has_second_factor
from twofold.factors.policy import rule_of
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
        "grace_ends_at": grace_ends_at(user, membership),
    }


def grace_ends_at(user: Any, membership: Any) -> Any:
    """Until when a member who chose "Later" may go without 2FA; None when it does not apply
    (no mandatory 2FA, a factor set up, or the grace period over: sign-in then enforces it)."""
    if membership is None or not membership.organization.require_two_factor:
        return None  # the common case: no query
    ends = rule_of(membership.organization).grace_ends_at
    if ends is None or ends <= clock.now() or has_second_factor(user):
        return None
    return ends
