"""Who is calling: a browser session (cookie + CSRF token) or an app session (X-Session-Token).

App clients use allauth headless's session token. Cookie-authenticated writes must carry the
CSRF token (ASVS 3.5.1); a request with a session token carries no ambient credential.
"""

from __future__ import annotations

from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from twofold.sessions import timeouts
from twofold.users.models import User

SESSION_TOKEN_HEADER = timeouts.SESSION_TOKEN_HEADER


def _reject(request: HttpRequest, reason: str) -> HttpResponse:
    return HttpResponse(status=403, content=reason)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return _reject(request, reason)


_csrf = _CsrfCheck(lambda request: HttpResponse())


def csrf_failure(request: HttpRequest) -> str | None:
    """The CSRF failure reason for a cookie-authenticated write, or None when it may proceed."""
    if request.headers.get(SESSION_TOKEN_HEADER):
        return None
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None  # no cookie, no ambient authority to forge
    rejected = _csrf.process_view(request, None, (), {})  # type: ignore[arg-type]
    return None if rejected is None else rejected.content.decode()


def caller(request: HttpRequest) -> tuple[User | None, SessionBase]:
    """The signed-in user behind this request (or None), and the session that says so."""
    token = request.headers.get(SESSION_TOKEN_HEADER)
    if not token:
        user = request.user
        return (user if user.is_authenticated else None), request.session
    # Timeouts were applied by SessionTimeoutMiddleware: an expired session is gone by now.
    result = authenticate_by_x_session_token(token)
    if result is None:
        return None, request.session
    return result.user, result.session
