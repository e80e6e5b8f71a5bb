"""Binding a factor: the freshness it needs (DESIGN.md: "Changing the phone number is binding a
new factor: re-authentication at aal2").

A member who has a second factor confirms it before binding another (a new number, an app, a
key): a stolen password alone must not add the thief's factor. A member without one binds their
first with a recent password (or sign-in). One rule, called by pages and API alike.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase

from twofold.factors.member_factors import has_second_factor
from twofold.sessions.freshness import recently_authenticated, require_fresh
from twofold.users.models import User


def needs_second_factor(user: User) -> bool:
    """Binding needs a second factor: the member has one to confirm."""
    return has_second_factor(user)


def require_fresh_to_bind(session: SessionBase, user: User) -> None:
    """Refuse (401 ``reauthentication_required``) unless the session is fresh enough to bind a
    factor: recent, and at aal2 for a member who has a factor."""
    require_fresh(session, user, second_factor=needs_second_factor(user))


def fresh_to_bind(session: SessionBase, user: User) -> bool:
    return recently_authenticated(session, user, second_factor=needs_second_factor(user))
