"""Where the current request comes from, for audit events written by flows that take no request.

A middleware sets it for the duration of each request; outside requests (commands, tests) it
is empty and events carry no IP or user agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from allauth.core.internal.httpkit import get_client_ip
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

USER_AGENT_LENGTH = 300


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str = ""


_NO_ORIGIN = Origin()  # frozen, so one shared default is safe
_origin: ContextVar[Origin] = ContextVar("twofold_audit_origin", default=_NO_ORIGIN)


def current() -> Origin:
    return _origin.get()


def origin_of(request: HttpRequest) -> Origin:
    try:
        ip: str | None = get_client_ip(request)
    except PermissionDenied:
        # A misconfigured proxy count: the event is still worth keeping without an address.
        ip = None
    user_agent = request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH]
    return Origin(ip=ip, user_agent=user_agent)


@contextmanager
def from_request(request: HttpRequest) -> Iterator[None]:
    token = _origin.set(origin_of(request))
    try:
        yield
    finally:
        _origin.reset(token)


class AuditOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with from_request(request):
            return self.get_response(request)
