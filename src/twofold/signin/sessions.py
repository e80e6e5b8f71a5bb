"""Ending sessions: server-side, so ending one works at once on every instance."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib.auth.base_user import AbstractBaseUser


def end_all_sessions(user: AbstractBaseUser) -> int:
    """Delete every session of ``user`` from the shared session store; return how many."""
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    return len(sessions)
