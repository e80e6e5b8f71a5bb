"""The one decorator every JSON endpoint goes through: methods, JSON body, caller, CSRF, errors.

Whatever goes wrong answers a 4xx JSON error with a stable ``code``; never an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from twofold.api import auth, body, responses
from twofold.errors import FlowError, NotAllowed
from twofold.factors.binding import require_fresh_to_bind
from twofold.organizations.models import Membership, membership_of
from twofold.sessions.freshness import require_fresh
from twofold.users.models import User

logger = logging.getLogger(__name__)


class BadInput(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


@dataclass
class PublicCall:
    """A request to an endpoint anyone may call (``public_endpoint``): perhaps signed in."""

    request: HttpRequest
    user: User | None
    session: SessionBase
    body: dict[str, Any]

    def validated(
        self, form_class: type[forms.Form], defaults: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The body checked by the same form the pages use; a 400 listing each problem otherwise.

        ``defaults`` fill the fields the body leaves out (a PATCH changes only what it names).
        A value of another JSON type than its field takes is refused, never stringified (400
        ``wrong_type``: ``{"name": [null, null]}`` renamed an account "[None, None]").
        """
        form = form_class(data={**(defaults or {}), **self.body})
        key = body.wrong_type(form.fields, self.body, undeclared_is_text=False)
        if key is not None:
            raise BadInput(body.wrong_type_response(key))
        if not form.is_valid():
            raise BadInput(responses.form_errors(form.errors.get_json_data()))
        return form.cleaned_data


@dataclass
class Call(PublicCall):
    """A request of a signed-in member (``endpoint``)."""

    user: User

    @property
    def membership(self) -> Membership:
        """The caller's membership; 403 ``membership_missing`` without one. Not 401
        ``not_authenticated``: they are signed in, and signing in again would not help."""
        membership = membership_of(self.user)
        if membership is None:
            raise NotAllowed(
                gettext("You are not a member of any account."), code="membership_missing"
            )
        return membership

    def require_fresh(self) -> None:
        """The session's authentication is recent (ASVS 7.5.1), else 401
        ``reauthentication_required``: the rule the pages apply too (``sessions/freshness.py``).
        Call it after the role check, so that a member hears 403 however recently they signed
        in."""
        require_fresh(self.session, self.user)

    def require_fresh_to_bind(self) -> None:
        """Fresh enough to bind a factor: recent, at aal2 for a member who has one
        (``factors/binding.py``)."""
        require_fresh_to_bind(self.session, self.user)


Handler = Callable[..., HttpResponseBase]  # a streamed CSV download too


def endpoint(*methods: str) -> Callable[[Handler], Handler]:
    """A signed-in member's endpoint: the handler takes a :class:`Call`; 401 without a member."""
    return _endpoint(methods, authenticated=True)


def public_endpoint(*methods: str) -> Callable[[Handler], Handler]:
    """An endpoint anyone may call: the handler takes a :class:`PublicCall`."""
    return _endpoint(methods, authenticated=False)


def _endpoint(methods: tuple[str, ...], *, authenticated: bool) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @csrf_exempt  # checked below, only where a cookie carries the credential
        @wraps(handler)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                response = responses.error(405, "method_not_allowed", "Method not allowed.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return _run(handler, request, authenticated, args, kwargs)
            except BadInput as bad:
                return bad.response
            except RequestDataTooBig:
                # Over DATA_UPLOAD_MAX_MEMORY_SIZE: answer JSON, not Django's HTML 400 page.
                return responses.error(413, "too_large", "The request body is too large.")
            except FlowError as error:
                return responses.flow_error(error)

        return view

    return decorate


def _run(
    handler: Handler, request: HttpRequest, authenticated: bool, args: Any, kwargs: Any
) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = auth.csrf_failure(request)
        if reason is not None:
            return responses.error(403, "csrf_failed", f"CSRF check failed: {reason}")
    user, session = auth.caller(request)
    if authenticated and user is None:
        return responses.error(401, "not_authenticated", "Sign in first.")
    if user is None:
        return handler(PublicCall(request, None, session, _json_body(request)), *args, **kwargs)
    # App callers: allauth's helpers read the caller from the request, as for browsers.
    request.user, request.session = user, session
    return handler(Call(request, user, session, _json_body(request)), *args, **kwargs)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if request.method in ("GET", "HEAD", "DELETE"):
        return {}
    try:
        # Size, nesting and shape by the rules allauth's endpoints get too (api/body.py).
        return body.json_object(request)
    except body.BodyRefused as refused:
        raise BadInput(refused.response) from None
