"""Audit events for what allauth and Django announce by signal: failed sign-ins, passwords.

ASVS 16.3.1: every authentication event, successful or not, with the factor. Connected once in
:meth:`twofold.audit.apps.AuditConfig.ready`. The flows of Twofold itself call ``record`` directly;
sign-in and sign-out, which read the session, are ``sessions/audit_trail.py``.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as allauth_signals
from django.contrib.auth import signals as auth_signals
from django.http import HttpRequest

from twofold.audit.events import Event
from twofold.audit.record import record, record_surviving_rollback
from twofold.users.models import User


def connect() -> None:
    auth_signals.user_login_failed.connect(password_failed, dispatch_uid="audit.sign_in_failed")
    allauth_signals.password_changed.connect(password_changed, dispatch_uid="audit.password")
    allauth_signals.password_set.connect(password_changed, dispatch_uid="audit.password_set")
    allauth_signals.password_reset.connect(password_reset, dispatch_uid="audit.password_reset")


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


def password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(Event.PASSWORD_CHANGED, subject=user)


def password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    record(Event.PASSWORD_RESET, subject=user)


def masked_email(email: str) -> str:
    """``a***@example.com``: enough to recognise a typo, not enough to list who tried."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if local else "***"
