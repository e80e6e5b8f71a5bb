"""Where the current request comes from, for audit events written by flows that take no request.

A middleware sets it for the duration of each request; outside requests (commands, tests) it
is empty and events carry no IP or user agent. The same middleware runs what was deferred to the
end of the request (:func:`after_request`), once every transaction of the request has ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from allauth.core.internal.httpkit import get_client_ip, get_client_ip_from_xff
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse

USER_AGENT_LENGTH = 300
logger = logging.getLogger("twofold.audit")


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str = ""


_NO_ORIGIN = Origin()  # frozen, so one shared default is safe
_origin: ContextVar[Origin] = ContextVar("twofold_audit_origin", default=_NO_ORIGIN)
_deferred: ContextVar[list[Callable[[], object]] | None] = ContextVar(
    "twofold_audit_deferred", default=None
)


def current() -> Origin:
    return _origin.get()


def origin_of(request: HttpRequest) -> Origin:
    try:
        ip: str | None = get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        # A misconfigured proxy count (allauth 65.22 raises ImproperlyConfigured when the request
        # came past fewer proxies than counted): the event is still worth keeping, without an
        # address, and the request is never a 500 for it.
        ip = None
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH]
    return Origin(ip=ip, user_agent=user_agent)


def through_trusted_proxy(request: HttpRequest) -> bool:
    """The request came through the proxies ``TWOFOLD_TRUSTED_PROXY_COUNT`` counts, by the rule
    that takes its address from X-Forwarded-For: only then may a header they set be believed."""
    try:
        return get_client_ip_from_xff(request) is not None
    except ImproperlyConfigured:  # fewer entries than proxies: not the proxies' request
        return False


def after_request(callback: Callable[[], object]) -> bool:
    """Run ``callback`` when the current request ends; False outside a request (run it yourself)."""
    deferred = _deferred.get()
    if deferred is None:
        return False
    deferred.append(callback)
    return True


@contextmanager
def from_request(request: HttpRequest) -> Iterator[None]:
    token = _origin.set(origin_of(request))
    deferred_token = _deferred.set([])
    try:
        yield
    finally:
        try:
            # Still in the request's origin, after its transactions committed or rolled back.
            for callback in _deferred.get() or []:
                try:
                    callback()
                except Exception:
                    # The answer is already decided; a lost event must be loud, not a 500.
                    logger.exception("A deferred audit event could not be written")
        finally:
            _deferred.reset(deferred_token)
            _origin.reset(token)


class AuditOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with from_request(request):
            return self.get_response(request)
