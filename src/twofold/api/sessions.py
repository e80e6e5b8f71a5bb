"""The member's sessions in the JSON API: the same flows as the "Your sessions" page
(``sessions.member_sessions``; ASVS 7.4.3, 7.5.2). "Current" is the session asking: the
browser's, or the app's (``X-Session-Token``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.sessions import member_sessions as sessions


def _session(s: sessions.DeviceSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "device": s.device,
        "user_agent": s.user_agent,
        "ip": s.ip,
        "signed_in_at": s.signed_in_at.isoformat(),
        "last_seen_at": s.last_seen_at.isoformat() if s.last_seen_at else None,
        "current": s.current,
    }


def _listing(call: Call) -> dict[str, Any]:
    return {"sessions": [_session(s) for s in sessions.list_sessions(call.user, call.session)]}


@endpoint("GET")
def session_list(call: Call) -> HttpResponse:
    """The caller's live sessions, the current one first."""
    return responses.ok(_listing(call))


@endpoint("DELETE")
def session(call: Call, session_id: int) -> HttpResponse:
    """End one other session: 404 ``session_not_found`` for an id that is not the caller's,
    400 ``current_session`` for the caller's own (sign out instead)."""
    sessions.end_session(call.user, session_id, call.session)
    return responses.ok(_listing(call))


@endpoint("DELETE")
def other_sessions(call: Call) -> HttpResponse:
    """End every session of the caller but the current one."""
    ended = sessions.end_other_sessions(call.user, call.session)
    return responses.ok({"ended": ended, **_listing(call)})
