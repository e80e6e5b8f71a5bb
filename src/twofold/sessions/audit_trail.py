"""Audit events of a session's start and end, read from the session itself: the factors that
signed it in (AMR, AAL) and, at sign-out, whether a timeout ended it.

ASVS 16.3.1: every authentication event, with the factor. Connected once in
:meth:`twofold.sessions.apps.SessionsConfig.ready`; the other authentication events are
``audit/receivers.py``.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import signals as allauth_signals
from django.contrib.auth import signals as auth_signals
from django.http import HttpRequest

from twofold import metrics
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.sessions import assurance, timeouts
from twofold.users.models import User


def connect() -> None:
    allauth_signals.user_logged_in.connect(sign_in_succeeded, dispatch_uid="audit.sign_in")
    auth_signals.user_logged_out.connect(signed_out, dispatch_uid="audit.sign_out")


def sign_in_succeeded(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """allauth's signal comes after every login stage, so the factors are all recorded by now."""
    recorded = assurance.records(request.session, user)
    aal = assurance.session_level(recorded)
    record(
        Event.SIGN_IN_SUCCEEDED,
        subject=user,
        factor="+".join(assurance.amr(recorded)),
        detail={"aal": aal},
    )
    metrics.sign_in_completed(aal)


def signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        # logout() announces before it flushes: a session past its timeouts was ended by them.
        reason = timeouts.expiry_reason(request.session, time.time())
        record(Event.SIGNED_OUT, subject=user, detail={"reason": reason} if reason else None)
