"""A member's sessions: list them, end one or all others (ASVS 7.5.2), and the offer to end the
others after a change of sign-in factors (ASVS 7.4.3). No HTTP: pages and API share these.

Every session is server-side (DESIGN.md), so ending one deletes it from the shared store: the
next request of that browser or app is signed out on every worker and instance at once.
allauth's ``UserSession`` rows are the list; each row's session in the store says whether it
still signs anyone in, and when it was last seen (``timeouts.LAST_SEEN_AT``, within a minute).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError, NotFound
from twofold.sessions import devices, ending, timeouts
from twofold.sessions.signals import purge_ended_sessions

if TYPE_CHECKING:
    from twofold.users.models import User

# Set in the member's session after a change of their factors; the offer shows until answered.
OFFER = "twofold_offer_to_end_other_sessions"


@dataclass(frozen=True)
class DeviceSession:
    id: int
    device: str  # "Firefox on Windows", from the user agent (what the client claims)
    user_agent: str
    ip: str
    signed_in_at: datetime
    last_seen_at: datetime | None
    current: bool  # the session asking


def end_all_sessions(user: AbstractBaseUser) -> int:
    """Delete every session of ``user`` from the shared session store; return how many."""
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        _end_one(session)
    ending.announce_everywhere(user)
    return len(sessions)


def list_sessions(user: AbstractBaseUser, current: SessionBase) -> list[DeviceSession]:
    """``user``'s live sessions, the one asking first, then the most recently signed in.

    Rows whose session no longer signs the member in (signed out, expired, timed out, or a
    password changed since) are deleted on the way, so they are never shown nor counted.
    """
    purge_ended_sessions(user)
    listed = []
    rows = UserSession.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")
    for row in rows:
        is_current = row.session_key == current.session_key
        data = current if is_current else _stored(row.session_key)
        if not is_current and not _signs_in(data, user):
            row.end()  # already dead for sign-in: delete its leftovers, not an event
            continue
        listed.append(_device_session(row, data, current=is_current))
    return sorted(listed, key=lambda s: not s.current)  # stable: the rest keep their order


def other_sessions(user: AbstractBaseUser, current: SessionBase) -> int:
    """How many live sessions ``user`` has besides ``current``."""
    return sum(1 for s in list_sessions(user, current) if not s.current)


def end_session(user: AbstractBaseUser, session_id: int, current: SessionBase) -> DeviceSession:
    """End one of ``user``'s other sessions; someone else's is "not found", never revealed."""
    found = next((s for s in list_sessions(user, current) if s.id == session_id), None)
    if found is None:
        raise NotFound(gettext("There is no such session among yours."), code="session_not_found")
    if found.current:
        raise FlowError(
            gettext("This is the session you are using now: sign out instead."),
            code="current_session",
        )
    _end(UserSession.objects.filter(user_id=user.pk, pk=session_id))
    return found


def end_other_sessions(user: AbstractBaseUser, current: SessionBase) -> int:
    """End every session of ``user`` except ``current``; return how many were ended."""
    others = UserSession.objects.filter(user_id=user.pk).exclude(session_key=current.session_key)
    ended = _end(others, one_event=False)
    record(Event.OTHER_SESSIONS_ENDED, subject=_member(user), detail={"count": ended})
    current.pop(OFFER, None)  # answered
    return ended


# --- After a change of factors (ASVS 7.4.3) ----------------------------------------------------


def offer_to_end_other_sessions(user: AbstractBaseUser, current: SessionBase) -> int:
    """Call after any change of the member's sign-in factors: the settings pages then ask
    "sign out your other sessions?" until answered. Returns how many other sessions there are
    (the API's ``other_sessions``), 0 when there is nothing to offer."""
    count = other_sessions(user, current)
    if count:
        current[OFFER] = True
    else:
        current.pop(OFFER, None)
    return count


def pending_offer(user: AbstractBaseUser, current: SessionBase) -> int:
    """The other sessions to offer ending, while an offer is open; 0 otherwise."""
    if not current.get(OFFER):
        return 0
    return offer_to_end_other_sessions(user, current)


def decline_offer(current: SessionBase) -> None:
    """The member keeps their other sessions: stop asking."""
    current.pop(OFFER, None)


# --- Internals ---------------------------------------------------------------------------------


def _stored(session_key: str) -> dict[str, Any]:
    """The session's data in the configured store; {} once it is gone or past its expiry."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return dict(store.load())


def _signs_in(data: Any, user: AbstractBaseUser) -> bool:
    """Would this session's next request still be signed in as ``user``? As Django's
    ``get_user`` and ``timeouts.SessionTimeoutMiddleware`` decide it."""
    if str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    # A password changed since invalidates the session's hash (Django's rule, constant time).
    if not any(constant_time_compare(session_hash, h) for h in hashes):
        return False
    return not timeouts.is_expired(data, time.time())


def _device_session(row: UserSession, data: Any, *, current: bool) -> DeviceSession:
    seen = data.get(timeouts.LAST_SEEN_AT)
    return DeviceSession(
        id=row.pk,
        device=devices.describe(row.user_agent),
        user_agent=row.user_agent,
        ip=row.ip,
        signed_in_at=row.created_at,
        last_seen_at=datetime.fromtimestamp(seen, UTC) if seen is not None else None,
        current=current,
    )


def _end(rows: Iterable[UserSession], *, one_event: bool = True) -> int:
    """Delete each session from the store (all workers see it at once) and from the list."""
    ended = 0
    for row in rows:
        _end_one(row)
        ended += 1
        if one_event:
            detail = {"device": devices.describe(row.user_agent), "ip": row.ip}
            record(Event.SESSION_ENDED, subject=_member(row.user), detail=detail)
    return ended


def _end_one(row: UserSession) -> None:
    """Announced while its data can still be read (sessions/ending.py), then deleted."""
    data = _stored(row.session_key)
    if data:
        ending.announce(row.user, data)
    row.end()


def _member(user: AbstractBaseUser) -> User:
    return cast("User", user)  # allauth types its users loosely; Twofold's are always a User


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    """allauth's own way to end sessions (``DELETE /_allauth/{client}/v1/auth/sessions``) goes
    through the same deletion and audit as Twofold's pages and API."""

    def end_sessions(self, sessions: Iterable[UserSession]) -> None:
        _end(sessions)
