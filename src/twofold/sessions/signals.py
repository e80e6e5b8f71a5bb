"""Session bookkeeping at sign-in and re-authentication."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as allauth_signals
from allauth.account.adapter import get_adapter
from allauth.account.signals import authentication_step_completed
from allauth.usersessions import signals as usersessions_signals
from allauth.usersessions.models import UserSession
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from twofold.sessions import timeouts

USER_AGENT_MAX_LENGTH = UserSession._meta.get_field("user_agent").max_length

_DEVICES = UserSession._meta.db_table
_SESSIONS = Session._meta.db_table
# allauth's rows of ended sessions: the session row is gone or past its expiry date.
_PURGE_SQL = (
    f"DELETE FROM {_DEVICES} WHERE user_id = %s AND NOT EXISTS ("  # noqa: S608 (names, not input)
    f"SELECT 1 FROM {_SESSIONS} s WHERE s.session_key = {_DEVICES}.session_key"
    " AND s.expire_date > %s)"
)
# This session's row, as allauth's get-or-create left it (created_at kept on a key seen before).
# SQLite 3.24+ and PostgreSQL both have ON CONFLICT.
_UPSERT_SQL = (
    f"INSERT INTO {_DEVICES} (user_id, session_key, ip, user_agent, created_at, last_seen_at,"  # noqa: S608
    " data) VALUES (%s, %s, %s, %s, %s, %s, '{}') ON CONFLICT (session_key) DO UPDATE SET"
    " user_id = excluded.user_id, ip = excluded.ip, user_agent = excluded.user_agent,"
    " last_seen_at = excluded.last_seen_at"
)


@receiver(user_logged_in)
def stamp_sign_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """The absolute session timeout counts from here. (Django's login() already rotated the id.)"""
    if request is not None and hasattr(request, "session"):
        timeouts.start(request.session)


@receiver(authentication_step_completed)
def rotate_session_on_reauthentication(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """A new session id after re-authentication too (ASVS 7.2.4).

    A step completed while someone is already signed in is a re-authentication. App sessions
    are exempt: their id is the app's session token, which the app could not learn anew.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    if request.headers.get(timeouts.SESSION_TOKEN_HEADER):
        return
    old_key = request.session.session_key
    request.session.cycle_key()
    # Keep the session on the member's device list, so ending all sessions still reaches it.
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def purge_ended_sessions(user: AbstractBaseUser) -> int:
    """Delete ``user``'s device-list rows whose session has ended, in one statement.

    allauth does this at every sign-in by loading each live session of the member and its user
    (3 queries per session, issue 7). Both session engines Twofold uses keep every session in
    the database, so an ended session is a missing or expired row. Rows of live sessions that no
    longer authenticate (a password changed elsewhere) are purged by allauth's device list page.
    """
    # Correlated per row (the session's primary key), never a scan of every live session. One
    # statement in autocommit; SQL, since building the ORM's DELETE was most of its cost.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_PURGE_SQL, [user.pk, now])
        return int(cursor.rowcount)


def record_device(sender: Any, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> None:
    """allauth's ``on_user_logged_in`` (usersessions) in two statements: the purge above, then
    this session's row in one upsert, where allauth's ``create_from_request`` spent six on a
    get-or-create in savepoints. A sign-in always has a new session key (Django's ``login()``
    rotates it), so the update half only guards against a key seen before, as allauth's did.
    """
    purge_ended_sessions(user)
    if not request.session.session_key:
        request.session.save()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    ip = connection.ops.adapt_ipaddressfield_value(get_adapter().get_client_ip(request))
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH]
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL, [user.pk, request.session.session_key, ip, user_agent, now, now]
        )


# In place of allauth's receiver, connected by allauth.usersessions (installed before us).
allauth_signals.user_logged_in.disconnect(receiver=usersessions_signals.on_user_logged_in)
allauth_signals.user_logged_in.connect(receiver=record_device)
