"""``GET /api/v1/me`` on a short path: the host application asks it on every request (issue 7).

The middleware answers before the session, CSRF, authentication and allauth middleware run, but
only when it can check every rule itself, with two reads (the session, then the user with their
membership and account in one query):

- the session exists in the configured store and is not past its expiry date;
- it is within its absolute and idle timeouts, and recent enough that last-seen needs no write
  (:mod:`twofold.sessions.timeouts`);
- its user is active, the backend that signed them in is still configured, and the session's
  auth hash matches the user's password as it is now (a password change ends other sessions);
- the user has a membership.

Anything else (no cookie, an app session token, a session to expire or to touch, a refused user)
falls through to the full stack and the view, which decide and answer as before. Nothing is kept
between requests: ending a session or deactivating a member takes effect on the next check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare, salted_hmac

from twofold.api import responses, serializers
from twofold.config import logs
from twofold.organizations import language
from twofold.sessions import timeouts

# Database sessions without a cache in front: read with one SELECT, below.
_DB_ENGINES = frozenset({"django.contrib.sessions.backends.db", "twofold.sessions.stores.db"})
# Django's key salt in AbstractBaseUser._get_session_auth_hash (pinned Django, tested equal).
_AUTH_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
# request.headers would build a dictionary of every header on each check.
_SESSION_TOKEN_META = "HTTP_" + timeouts.SESSION_TOKEN_HEADER.upper().replace("-", "_")
_SESSION_SQL = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s"
# One read for what the full stack reads in three (user, membership, account).
_MEMBER_SQL = (
    "SELECT u.id, u.email, u.password, m.id, m.role, o.id, o.name, u.language,"
    " o.default_language FROM users_user u"
    " JOIN organizations_membership m ON m.user_id = u.id"
    " JOIN organizations_organization o ON o.id = m.organization_id"
    " WHERE u.id = %s AND u.is_active"  # an inactive user is refused (ModelBackend.get_user)
)


def stored_session(session_key: str) -> dict[str, Any]:
    """The session's data from the configured store ({} when absent or past its expiry date)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if settings.SESSION_ENGINE not in _DB_ENGINES:
        return dict(store.load())  # cached_db: one cache read when the session is cached
    if store.session_key is None:
        return {}  # not a well-formed session key
    # As SessionStore.load(), without the ORM: compiling its query was half of a session check.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_SQL, [store.session_key, now])
        row = cursor.fetchone()
    return dict(store.decode(row[0])) if row else {}


class ActiveMember(NamedTuple):
    """What the answer needs of an active member, read without models (building three model
    instances cost a third of a check)."""

    user_id: int
    email: str
    password: str
    membership_id: int
    role: str
    organization_id: int
    organization_name: str
    language: str  # the member's choice, "" for none
    default_language: str  # the account's, "" for none

    def session_auth_hash(self) -> str:
        """``AbstractBaseUser.get_session_auth_hash()`` of this user (tested equal)."""
        return salted_hmac(_AUTH_HASH_SALT, self.password, algorithm="sha256").hexdigest()


def active_member(user_id: int) -> ActiveMember | None:
    """The membership of an active user, with its user and account, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_SQL, [user_id])
        row = cursor.fetchone()
    return None if row is None else ActiveMember(*row)


def _signed_in_member(session: dict[str, Any], now: float) -> ActiveMember | None:
    user_id = session.get(SESSION_KEY)
    if user_id is None or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    # Expired: the full stack logs out; touched: it saves the new last-seen.
    if timeouts.visit(session, now) is not timeouts.Verdict.FRESH:
        return None
    membership = active_member(int(user_id))
    if membership is None:
        return None
    # As django.contrib.auth.get_user: a password change ends the sessions it did not start.
    # (Sessions signed with a SECRET_KEY_FALLBACKS key fall through: the full stack renews them.)
    expected = membership.session_auth_hash()
    if not constant_time_compare(session.get(HASH_SESSION_KEY) or "", expected):
        return None
    return membership


def signed_in_session(request: HttpRequest) -> tuple[dict[str, Any], ActiveMember] | None:
    """The session of the request's browser cookie and its member, when every rule above holds
    and nothing needs writing; None to let the full stack decide. Writes nothing. (Also the
    forward-auth check's reads: api/idp/forward_auth.py.)"""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key or _SESSION_TOKEN_META in request.META:
        return None
    request.get_host()  # DisallowedHost as in CommonMiddleware: a 400 for a host not allowed
    session = stored_session(session_key)
    membership = _signed_in_member(session, time.time())
    if membership is None:
        return None
    logs.note_member(request, membership.user_id, membership.organization_id)  # the access log
    return session, membership


def answer(request: HttpRequest) -> HttpResponse | None:
    """The full view's 200 answer for a browser session, or None to let the full stack decide."""
    found = signed_in_session(request)
    if found is None:
        return None
    session, membership = found
    response = responses.ok(
        serializers.signed_in(
            user_id=membership.user_id,
            email=membership.email,
            organization_id=membership.organization_id,
            organization_name=membership.organization_name,
            role=membership.role,
            session=session,
        )
    )
    # As LocaleMiddleware and web/language.py would: the language of the answer, and what it
    # depends on (docs/languages.md).
    response["Content-Language"] = _language(request, membership)
    patch_vary_headers(response, ("Accept-Language",))
    return as_the_full_stack_answers(response)


def _language(request: HttpRequest, membership: ActiveMember) -> str:
    """The member's choice, this browser's, the account's default, else Accept-Language."""
    chosen = (
        membership.language,
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
        membership.default_language,
    )
    known = language.codes()
    return next((code for code in chosen if code in known), None) or (
        translation.get_language_from_request(request)
    )


def as_the_full_stack_answers(response: HttpResponse) -> HttpResponse:
    """What the skipped middleware add to an early answer (the full stack's headers, tested
    equal): Vary (the session), X-Frame-Options, Content-Length."""
    patch_vary_headers(response, ("Cookie",))
    response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
    response.headers["Content-Length"] = str(len(response.content))
    return response


class SessionCheckMiddleware:
    """Answers ``GET /api/v1/me`` early when :func:`answer` can; placed after the security
    headers and HTTPS redirect, before the session middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = reverse("api_me")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.path and request.method == "GET":
            early = answer(request)
            if early is not None:
                return early
        return self.get_response(request)
