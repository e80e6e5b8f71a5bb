"""What a signed-in session proves, as OpenID Connect claims: ``amr`` (RFC 8176), ``acr``
(Twofold's levels) and ``auth_time``.

The values come from the methods allauth recorded for the session (sessions/assurance.py), so
they are the same as ``GET /api/v1/me`` reports.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from twofold.sessions import assurance, timeouts
from twofold.users.models import User

ACR_PREFIX = "urn:twofold:"
ACR_VALUES = (f"{ACR_PREFIX}aal1", f"{ACR_PREFIX}aal2")
SID_KEY = "twofold.idp.sid"


@dataclass(frozen=True)
class Proof:
    """The assurance of one session at the moment a code is issued."""

    amr: list[str]
    acr: str
    auth_time: datetime | None
    sid: str  # names the session to applications (OIDC ``sid``), never its key
    # The session's absolute end (its sign-in + the absolute timeout): no token outlives it.
    session_ends_at: datetime | None = None

    def as_credentials(self) -> dict[str, Any]:
        return {"twofold_proof": self}


def of_session(session: SessionBase, user: User) -> Proof:
    recorded = assurance.records(session, user)
    return Proof(
        amr=assurance.amr(recorded),
        acr=ACR_PREFIX + assurance.session_level(recorded),
        auth_time=_last_time(recorded),
        sid=session_id(session),
        session_ends_at=_absolute_end(session),
    )


def session_id(session: SessionBase) -> str:
    """The session's ``sid``: random, made once per session, kept in it."""
    sid = session.get(SID_KEY)
    if not isinstance(sid, str):
        sid = session[SID_KEY] = secrets.token_urlsafe(16)
    return sid


def _absolute_end(session: SessionBase) -> datetime | None:
    signed_in_at = session.get(timeouts.SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        return None
    return datetime.fromtimestamp(signed_in_at + settings.SESSION_COOKIE_AGE, tz=UTC)


def _last_time(recorded: list[Any]) -> datetime | None:
    """When the member last authenticated: the latest recorded method's time (``auth_time``,
    OIDC Core 1.0 section 2)."""
    times = [entry.get("at") for entry in recorded if isinstance(entry.get("at"), int | float)]
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None
