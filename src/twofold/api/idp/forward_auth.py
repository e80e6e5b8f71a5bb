"""``/auth/forward``: a reverse proxy's check of each request to an application behind it
(nginx ``auth_request``, Traefik ForwardAuth, Caddy ``forward_auth``; docs/forward-auth.md).

No body, only a status and headers: **200** with the member in ``X-Twofold-*`` headers when the
request's Twofold session cookie meets what the check's address asks (``aal=2``,
``max_age=SECONDS``, ``account=ID``: idp/forward_auth.py); **401** otherwise, with the step-up
challenge of RFC 9470 when signed in below it, and the sign-in link in ``Location`` (with
``redirect=1``, a 302 to it instead, for proxies that hand the answer to the browser);
**403** for a member of another account; **400** for a malformed ask.

It is on the path of every request of the application, so :class:`ForwardAuthMiddleware`
answers it before the session, CSRF, authentication and allauth middleware, with the same two
reads as ``GET /api/v1/me`` (api/session_check.py) and no write; whatever those reads cannot
decide (a session to expire or to touch, a refused user) goes to :func:`check`, the same rule
on the full stack.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from twofold.api import session_check
from twofold.idp import forward_auth
from twofold.organizations.models import Membership

# The answer's headers (docs/forward-auth.md); values are ASCII, text percent-encoded (UTF-8).
USER = "X-Twofold-User"
EMAIL = "X-Twofold-Email"
ACCOUNT = "X-Twofold-Account"
ACCOUNT_NAME = "X-Twofold-Account-Name"
ROLE = "X-Twofold-Role"
ACR = "X-Twofold-Acr"
AMR = "X-Twofold-Amr"
AUTH_TIME = "X-Twofold-Auth-Time"
MEMBER_HEADERS = (USER, EMAIL, ACCOUNT, ACCOUNT_NAME, ROLE, ACR, AMR, AUTH_TIME)
# Printable ASCII but "%": what a header value may carry as it is; the rest is percent-encoded
# UTF-8, so no text of a member or an account can add a header or a line (CR, LF).
_AS_IS = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
_PLAIN = re.compile(r"[ -$&-~]*")  # the same characters: most values need no encoding


def _header_text(value: str) -> str:
    return value if _PLAIN.fullmatch(value) else quote(value, safe=_AS_IS)


# A client that sends no Twofold session: RFC 6750 section 3, a challenge without an error code.
_SIGNED_OUT_CHALLENGE = 'Bearer realm="Twofold"'


class Member(NamedTuple):
    """What the answer says of the member (from the short path's row, or the models)."""

    user_id: int
    email: str
    organization_id: int
    organization_name: str
    role: str


class _Ask(NamedTuple):
    required: forward_auth.Required
    redirect: bool  # redirect=1: a 302 to the sign-in page instead of a 401


def _ask(request: HttpRequest) -> _Ask:
    """What the check's address asks; raises InvalidRequest."""
    query_string = request.META.get("QUERY_STRING", "")
    if len(query_string) > _LONGEST_CACHED_ASK:
        return _parsed_ask(query_string)
    return _cached_ask(query_string)


def _parsed_ask(query_string: str) -> _Ask:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    query = dict(pairs)
    # Deny, never guess: a proxy that passed the application's own query on would otherwise let
    # a visitor choose what is asked (``?aal=2&aal=1``, or an ``aal`` of their own).
    unknown = sorted(set(query) - _PARAMETERS)
    if unknown or len(query) != len(pairs):
        what = f"unknown parameter {unknown[0]!r}" if unknown else "a parameter given twice"
        raise forward_auth.InvalidRequest(
            f"{what} (the address takes {', '.join(sorted(_PARAMETERS))}; does the proxy "
            "pass the application's query string on?)"
        )
    redirect = query.get("redirect") or "0"
    if redirect not in ("0", "1"):
        raise forward_auth.InvalidRequest("redirect must be 0 or 1.")
    return _Ask(forward_auth.required(query), redirect == "1")


_PARAMETERS = frozenset({*forward_auth.PARAMETERS, "redirect"})
# A proxy asks the same few addresses again and again (one per protected location): each is
# parsed once per process. Bounded, so random query strings only evict each other.
_LONGEST_CACHED_ASK = 256
_cached_ask = functools.lru_cache(maxsize=64)(_parsed_ask)


def early(request: HttpRequest) -> HttpResponse | None:
    """The answer when the short path can decide it, or None to let the full stack decide."""
    try:
        ask = _ask(request)
    except forward_auth.InvalidRequest:
        return None  # the full view says what is wrong
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        request.get_host()  # DisallowedHost, as the full stack: a 400 for a host not allowed
        return session_check.as_the_full_stack_answers(_signed_out(request, ask))
    found = session_check.signed_in_session(request)
    if found is None:
        return None
    session, row = found
    member = Member(row.user_id, row.email, row.organization_id, row.organization_name, row.role)
    return session_check.as_the_full_stack_answers(_answer(request, ask, member, session))


@csrf_exempt  # a proxy's subrequest keeps the original method; the check changes nothing
def check(request: HttpRequest) -> HttpResponse:
    """The same answer on the full stack (every method: nginx asks with the original one)."""
    try:
        ask = _ask(request)
    except forward_auth.InvalidRequest as error:
        return _text(400, f"Twofold's forward-auth address is misconfigured: {error}")
    if not request.user.is_authenticated:
        return _signed_out(request, ask)
    membership = (
        Membership.objects.filter(user_id=request.user.pk)
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        return _text(403, "You are signed in to Twofold without an account.")
    member = Member(
        membership.user_id,
        membership.user.email,
        membership.organization_id,
        membership.organization.name,
        membership.role,
    )
    return _answer(request, ask, member, request.session)


def _answer(
    request: HttpRequest, ask: _Ask, member: Member, session: Mapping[str, Any]
) -> HttpResponse:
    proof = forward_auth.proof(session, member.user_id)
    verdict = forward_auth.verdict(ask.required, proof, member.organization_id)
    if verdict is forward_auth.Verdict.FORBIDDEN:
        return _text(403, "This application is for the members of another account.")
    if verdict is forward_auth.Verdict.STEP_UP:
        challenge = forward_auth.step_up_challenge(ask.required)
        return _to_sign_in(request, ask, challenge, "A stronger or more recent sign-in is needed.")
    return _text(200, "", _member_headers(member, proof))


def _member_headers(member: Member, proof: forward_auth.Proof) -> dict[str, str]:
    headers = {
        USER: str(member.user_id),
        EMAIL: _header_text(member.email),
        ACCOUNT: str(member.organization_id),
        ACCOUNT_NAME: _header_text(member.organization_name),
        ROLE: _header_text(member.role),
        ACR: proof.acr,
        AMR: _header_text(" ".join(proof.amr)),
    }
    if proof.auth_time is not None:
        headers[AUTH_TIME] = str(proof.auth_time)
    return headers


def _signed_out(request: HttpRequest, ask: _Ask) -> HttpResponse:
    return _to_sign_in(request, ask, _SIGNED_OUT_CHALLENGE, "Sign in to Twofold first.")


def _to_sign_in(request: HttpRequest, ask: _Ask, challenge: str, why: str) -> HttpResponse:
    link = sign_in_link(request, ask.required)
    if ask.redirect:
        return _text(302, "", {"Location": link})
    return _text(401, f"{why} {link}", {"WWW-Authenticate": challenge, "Location": link})


def sign_in_link(request: HttpRequest, required: forward_auth.Required) -> str:
    """Twofold's forward-auth sign-in page, asking what the check asked, and back to the
    request's original address when the proxy told it."""
    query = required.as_query()
    original = original_url(request.META)
    if original:
        query = {"rd": original, **query}
    address = _start_address(settings.TWOFOLD.public_url)
    return f"{address}?{urlencode(query)}" if query else address


@functools.lru_cache(maxsize=4)
def _start_address(public_url: str) -> str:
    """Reversed once: a reverse() cost a fifth of a signed-out check."""
    return public_url + reverse("forward_auth_start")


def original_url(meta: Mapping[str, Any]) -> str | None:
    """The address the browser asked the proxy for: ``X-Original-URL`` (set in nginx's
    configuration), else ``X-Forwarded-Proto`` + ``-Host`` + ``-Uri`` (Traefik, Caddy). The
    sign-in page checks it against TWOFOLD_FORWARD_AUTH_HOSTS before sending anyone there."""
    given = meta.get("HTTP_X_ORIGINAL_URL")
    if given:
        return str(given)
    host, uri = meta.get("HTTP_X_FORWARDED_HOST"), meta.get("HTTP_X_FORWARDED_URI")
    if not host or uri is None:
        return None
    scheme = str(meta.get("HTTP_X_FORWARDED_PROTO") or "https").split(",")[0].strip()
    return f"{scheme}://{str(host).split(',')[0].strip()}{uri}"


def _text(status: int, text: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
    # no-store: a decision for this request only.
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    response = HttpResponse(
        text, status=status, content_type="text/plain; charset=utf-8", headers=all_headers
    )
    if status in (401, 403):
        # The check's answer, not a warning: Django's request log would write a line for every
        # request of every signed-out visitor (and cost a third of the check).
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class ForwardAuthMiddleware:
    """Answers ``/auth/forward`` early when :func:`early` can; placed beside the session
    check's middleware (after the security headers and HTTPS redirect, before the session
    middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = reverse("forward_auth")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.path:
            answered = early(request)
            if answered is not None:
                return answered
        return self.get_response(request)
