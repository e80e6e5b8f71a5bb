"""What an application asks of the sign-in, and what is missing from the session's proof
(OpenID Connect Core 1.0 3.1.2.1: ``prompt``, ``max_age``, ``acr_values``; 5.5.1.1: ``acr`` as an
essential claim).

Twofold asks for what is missing before any code is issued: a fresh password (``max_age``,
``prompt=login``) or a fresh second factor (aal2 asked for, and not met or not fresh). A member
who cannot meet it (no second factor) gets ``unmet_authentication_requirements``; with
``prompt=none``, ``login_required`` or ``interaction_required``; never a code that does not
meet what was asked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from django.contrib.sessions.backends.base import SessionBase

from twofold.factors import member_factors
from twofold.idp.assurance import ACR_PREFIX, Proof
from twofold.users.models import User

AAL2 = f"{ACR_PREFIX}aal2"
_LOGIN_AFTER = "twofold.idp.login_after"  # prompt=login: authenticated after this moment
_LOGIN_MARK_LIFETIME = 600.0


class Missing(Enum):
    PASSWORD = "password"  # a fresh authentication
    SECOND_FACTOR = "second_factor"  # a (fresh) second factor
    UNMEETABLE = "unmeetable"  # aal2 asked of a member without a second factor


class InvalidRequest(ValueError):
    """A parameter the request cannot be answered with (``invalid_request``)."""


@dataclass(frozen=True)
class Asked:
    aal2: bool
    max_age: int | None
    prompts: frozenset[str]


def asked(parameters: Mapping[str, str]) -> Asked:
    prompts = frozenset(parameters.get("prompt", "").split())
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values.")
    raw_max_age = parameters.get("max_age")
    max_age = None
    if raw_max_age not in (None, ""):
        if not str(raw_max_age).isdigit():
            raise InvalidRequest("max_age must be a number of seconds.")
        max_age = int(str(raw_max_age))
    acr_values = set(parameters.get("acr_values", "").split())
    return Asked(
        aal2=AAL2 in acr_values or AAL2 in _essential_acr(parameters),
        max_age=max_age,
        prompts=prompts,
    )


def _essential_acr(parameters: Mapping[str, str]) -> set[str]:
    """The acr values the ``claims`` parameter asks for as essential in the ID token."""
    raw = parameters.get("claims")
    if not raw:
        return set()
    try:
        claims = json.loads(raw)
    except ValueError:
        raise InvalidRequest("claims must be a JSON object.") from None
    acr = claims.get("id_token", {}).get("acr") if isinstance(claims, dict) else None
    if not isinstance(acr, dict) or not acr.get("essential"):
        return set()
    values = acr.get("values") or ([acr["value"]] if "value" in acr else [])
    return {str(v) for v in values} if isinstance(values, list) else set()


def start_login_prompt(session: SessionBase) -> None:
    """``prompt=login``: from now on, only an authentication after this moment counts."""
    session[_LOGIN_AFTER] = time.time()


def missing(asked: Asked, proof: Proof, user: User, session: SessionBase) -> Missing | None:
    """What the session must still prove for this request; None when it meets it."""
    now = time.time()
    authenticated_at = proof.auth_time.timestamp() if proof.auth_time else 0.0
    after = 0.0
    if asked.max_age is not None:
        after = now - asked.max_age
    mark = session.get(_LOGIN_AFTER)
    if isinstance(mark, int | float) and now - mark < _LOGIN_MARK_LIFETIME:
        after = max(after, mark)
    stale = authenticated_at < after
    if asked.aal2 and (proof.acr != AAL2 or stale):
        if not member_factors.has_second_factor(user):
            return Missing.UNMEETABLE
        return Missing.SECOND_FACTOR
    if stale:
        return Missing.PASSWORD
    session.pop(_LOGIN_AFTER, None)  # met: the prompt is answered
    return None
