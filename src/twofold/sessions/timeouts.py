"""Absolute and idle session timeouts (ASVS 7.3.1, 7.3.2; NIST 800-63B-4 AAL2: 24 h / 1 h).

The session records when its sign-in happened and when it was last seen. ``last seen`` is written
at most once a minute, so a busy session does not turn every request into a session write.
Browser sessions (cookie) and app sessions (allauth headless ``X-Session-Token``) obey the same
rule, checked here before any view runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import Any

from allauth.headless.internal.sessionkit import lookup_session
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.users.models import User

SIGNED_IN_AT = "twofold_signed_in_at"
LAST_SEEN_AT = "twofold_last_seen_at"
SEEN_RESOLUTION = 60  # seconds; the idle timeout is exact to within this
SESSION_TOKEN_HEADER = "X-Session-Token"


class Verdict(Enum):
    FRESH = "fresh"
    TOUCHED = "touched"  # still valid; last-seen moved forward and must be saved
    EXPIRED = "expired"


def start(session: Any, now: float | None = None) -> None:
    now = time.time() if now is None else now
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now


def expiry_reason(session: Any, now: float) -> str | None:
    """Why a signed-in session has ended at ``now`` (the audit's sign-out reason), or None."""
    signed_in_at = session.get(SIGNED_IN_AT)
    last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
    if signed_in_at is None or last_seen_at is None:
        return "unstamped"  # a signed-in session without a stamp predates the rule: end it
    if now - signed_in_at > settings.SESSION_COOKIE_AGE:
        return "absolute_timeout"
    if now - last_seen_at > settings.TWOFOLD_SESSION_IDLE_TIMEOUT:
        return "idle_timeout"
    return None


def is_expired(session: Any, now: float) -> bool:
    return expiry_reason(session, now) is not None


def visit(session: Any, now: float) -> Verdict:
    """Judge a signed-in session at ``now`` and count the visit as activity."""
    if is_expired(session, now):
        return Verdict.EXPIRED
    if now - session.get(LAST_SEEN_AT, session[SIGNED_IN_AT]) >= SEEN_RESOLUTION:
        session[LAST_SEEN_AT] = now
        return Verdict.TOUCHED
    return Verdict.FRESH


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = time.time()
        if request.user.is_authenticated and visit(request.session, now) is Verdict.EXPIRED:
            # logout() flushes the server-side session: the old id is dead everywhere.
            logout(request)
        token = request.headers.get(SESSION_TOKEN_HEADER)
        if token:
            _visit_app_session(token, now)
        return self.get_response(request)


def _visit_app_session(token: str, now: float) -> None:
    session = lookup_session(token)
    if session is None or session.get(SESSION_KEY) is None:
        return
    verdict = visit(session, now)
    if verdict is Verdict.EXPIRED:
        reason = expiry_reason(session, now)
        user_id = session.get(SESSION_KEY)
        session.flush()  # deleted from the store: allauth's views then see no session
        _audit_app_sign_out(user_id, reason)
    elif verdict is Verdict.TOUCHED:
        session.save()


def _audit_app_sign_out(user_id: Any, reason: str | None) -> None:
    """An app session ended by a timeout: no ``logout()`` ran, so no signal: record it here."""
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        record(Event.SIGNED_OUT, subject=user, detail={"reason": reason, "client": "app"})
