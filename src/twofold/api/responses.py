"""The JSON envelope of allauth's headless API: ``{status, data}`` or ``{status, errors}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.http import JsonResponse

from twofold.errors import FlowError, ReauthenticationRequired, TooManyRequests
from twofold.idp import forward_auth


def ok(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse({"status": status, "data": data}, status=status)


def error(
    status: int, code: str, message: str, param: str | None = None, retry_after: int | None = None
) -> JsonResponse:
    """One error; with ``retry_after`` (seconds) also in the body and the Retry-After header."""
    entry: dict[str, str] = {"code": code, "message": message}
    if param:
        entry["param"] = param
    body: dict[str, Any] = {"status": status, "errors": [entry]}
    if retry_after is None:
        return JsonResponse(body, status=status)
    body["retry_after"] = retry_after
    return JsonResponse(body, status=status, headers={"Retry-After": str(retry_after)})


def form_errors(errors: Mapping[str, Iterable[Mapping[str, str]]]) -> JsonResponse:
    """A 400 listing every invalid field, each with its validator's code and message."""
    entries = []
    for param, field_errors in errors.items():
        for item in field_errors:
            entry = {"code": item.get("code") or "invalid", "message": item["message"]}
            if param != "__all__":
                entry["param"] = param
            entries.append(entry)
    return JsonResponse({"status": 400, "errors": entries}, status=400)


# Where an API client re-authenticates (``sessions/freshness.py``): with the password (or any
# factor), or with a second factor.
_REAUTHENTICATE = {
    False: "Confirm your password first (POST /_allauth/{client}/v1/auth/reauthenticate).",
    True: "Confirm it is you with your second factor first: a code texted to your current "
    "number, from your authenticator app, a backup code "
    "(POST /_allauth/{client}/v1/auth/2fa/reauthenticate) or a security key "
    "(…/auth/2fa/reauthenticate/webauthn).",
}


def flow_error(refusal: FlowError) -> JsonResponse:
    """A flow's refusal, for every endpoint (Twofold's and the headless stage endpoints): its
    status and code, its message (for a stale session, where to re-authenticate), the wait."""
    message = refusal.message
    if isinstance(refusal, ReauthenticationRequired):
        message = _REAUTHENTICATE[refusal.second_factor]
    wait = refusal.retry_after if isinstance(refusal, TooManyRequests) else None
    answer = error(refusal.status, refusal.code, message, refusal.param, wait)
    if isinstance(refusal, ReauthenticationRequired):
        # RFC 9470: what the session lacks, as forward-auth says it (idp/forward_auth.py).
        window = int(settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
        needed = forward_auth.Required(aal2=refusal.second_factor, max_age=window)
        answer["WWW-Authenticate"] = forward_auth.step_up_challenge(needed)
    return answer
