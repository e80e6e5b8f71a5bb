"""Audit events for what allauth and Django announce by signal: sign-in, sign-out, passwords.

ASVS 16.3.1: every authentication event, successful or not, with the factor. Connected once in
:meth:`twofold.audit.apps.AuditConfig.ready`. The flows of Twofold itself call ``record`` directly.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import signals as allauth_signals
from django.contrib.auth import signals as auth_signals
from django.http import HttpRequest

from twofold.audit.events import Event
from twofold.audit.record import record, record_surviving_rollback
from twofold.sessions import assurance, timeouts
from twofold.users.models import User


def connect() -> None:
    allauth_signals.user_logged_in.connect(sign_in_succeeded, dispatch_uid="audit.sign_in")
    auth_signals.user_login_failed.connect(password_failed, dispatch_uid="audit.sign_in_failed")
    auth_signals.user_logged_out.connect(signed_out, dispatch_uid="audit.sign_out")
    allauth_signals.password_changed.connect(password_changed, dispatch_uid="audit.password")
    allauth_signals.password_set.connect(password_changed, dispatch_uid="audit.password_set")
    allauth_signals.password_reset.connect(password_reset, dispatch_uid="audit.password_reset")


def sign_in_succeeded(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """allauth's signal comes after every login stage, so the factors are all recorded by now."""
    recorded = assurance.records(request.session, user)
    record(
        Event.SIGN_IN_SUCCEEDED,
        subject=user,
        factor="+".join(assurance.amr(recorded)),
        detail={"aal": assurance.session_level(recorded)},
    )


def password_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password at sign-in or re-authentication (``credentials`` has it masked)."""
    record_password_refusal(credentials, request)


def record_password_refusal(
    credentials: dict[str, Any], request: HttpRequest | None, **extra: Any
) -> None:
    """A password sign-in refused: a wrong password, or (``rate_limited=True``) too many failures
    before it, which allauth refuses before any hash and announces by no signal."""
    email = str(credentials.get("email") or credentials.get("username") or "")
    user = User.objects.filter(email__iexact=email).first() if email else None
    detail: dict[str, Any] = {}
    if getattr(getattr(request, "user", None), "is_authenticated", False):
        detail["reauthentication"] = True  # a signed-in member asked for their password again
    if user is None:
        # No account to file it under: only the operator sees it; the address half-masked.
        detail["email"] = masked_email(email)
    elif not user.is_active:
        detail["deactivated"] = True
    detail.update(extra)
    record_surviving_rollback(Event.SIGN_IN_FAILED, subject=user, factor="password", detail=detail)


def signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        # logout() announces before it flushes: a session past its timeouts was ended by them.
        reason = timeouts.expiry_reason(request.session, time.time())
        record(Event.SIGNED_OUT, subject=user, detail={"reason": reason} if reason else None)


def password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(Event.PASSWORD_CHANGED, subject=user)


def password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(Event.PASSWORD_RESET, subject=user)


def masked_email(email: str) -> str:
    """``a***@example.com``: enough to recognise a typo, not enough to list who tried."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if local else "***"
