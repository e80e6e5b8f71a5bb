"""The request id and the access log: one INFO line per request on ``twofold.access``.

First in ``MIDDLEWARE``, so the probes and the early answers of ``GET /api/v1/me`` and
``/auth/forward`` get both too. Every response carries ``X-Request-ID``: a new random id, or the
incoming one when a trusted proxy sent it (``TWOFOLD_TRUSTED_PROXY_COUNT``, the rule that takes
the client address from X-Forwarded-For) and it is short and plain. Every record written while
the request runs carries the id (config/logs.py).

The line names the route (the URL pattern), never the path's values or the query string: links
carry keys (email confirmation, password reset) and callbacks carry codes. It is on the hot
path: no logger lookup, no field built while ``twofold.access`` is below INFO. The same route,
status and duration feed the request metrics (metrics.py).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import empty
from django.utils.log import log_response

from twofold import metrics
from twofold.audit.context import through_trusted_proxy
from twofold.config import logs
from twofold.organizations.models import membership_loaded, membership_of
from twofold.web.health import PROBES
from twofold.web.metrics import METRICS_PATH

HEADER = "X-Request-ID"
logger = logging.getLogger("twofold.access")
# What a proxy's id may be to be kept (128 characters at most, no space, quote or newline).
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_LINE = "%s %s %s %.1fms"
_LINE_WITH_MEMBER = "%s %s %s %.1fms user=%s account=%s"


def request_id(request: HttpRequest) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID")
    if incoming and _SANE_ID.fullmatch(incoming) and through_trusted_proxy(request):
        return str(incoming)
    return secrets.token_hex(16)


def member_of(request: HttpRequest) -> tuple[int, int | None] | None:
    """The signed-in member's user and account ids, when the request already read them."""
    noted = logs.noted_member(request)
    if noted is not None:
        return noted
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # a lazy user never read is not read here
    if user is None or user is empty or not user.is_authenticated:
        return None
    membership = membership_of(user) if membership_loaded(user) else None
    return user.pk, membership.organization_id if membership is not None else None


def _route_of(path: str) -> str:
    try:
        return str(resolve(path).route)
    except Resolver404:
        return path.lstrip("/")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Answered before URL resolution: their routes, worked out once.
        early = (*PROBES, METRICS_PATH, reverse("api_me"), reverse("forward_auth"))
        self.early_routes = {path: _route_of(path) for path in early}
        self.static = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        token = logs.bind_request_id(rid)
        try:
            started = time.perf_counter()
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response.headers[HEADER] = rid
            route = self.route(request)
            metrics.request_done(route, request.method, response.status_code, seconds)
            if response.status_code >= 400 and not getattr(response, "_has_been_logged", False):
                self.log_refusal(request, response, route)
            if logger.isEnabledFor(logging.INFO):
                self.log(request, response, seconds, route)
            return response
        finally:
            logs.unbind_request_id(token)

    def log_refusal(self, request: HttpRequest, response: HttpResponse, route: str | None) -> None:
        """Django's "Not Found: <path>" warning, written here (inside the request, so with its
        id) and with the route: Django's names the path, keys of links included."""
        log_response(
            "%s: %s", response.reason_phrase, route or "-", response=response, request=request
        )

    def log(
        self, request: HttpRequest, response: HttpResponse, seconds: float, route: str | None
    ) -> None:
        duration_ms = round(seconds * 1000, 2)
        fields = {
            "route": route,
            "method": request.method,
            "status": response.status_code,
            "duration_ms": duration_ms,
        }
        line = _LINE
        args: tuple[object, ...] = (request.method, route or "-", response.status_code, duration_ms)
        member = member_of(request)
        if member is not None:
            fields["user_id"], fields["account_id"] = member
            line, args = _LINE_WITH_MEMBER, (*args, *member)
        # As logger.info() without its walk up the stack for the caller: a fifth of the line.
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, line, args, None)
        record.__dict__.update(fields)
        logger.handle(record)

    def route(self, request: HttpRequest) -> str | None:
        """The URL pattern; the probes' and early answers' routes, ``static/`` for files; None
        for a path no pattern matched (it may hold anything a visitor typed, or a key)."""
        match = request.resolver_match
        if match is not None:
            return str(match.route)
        path = request.path_info
        if path.startswith(self.static):
            return self.static.lstrip("/")
        return self.early_routes.get(path)
