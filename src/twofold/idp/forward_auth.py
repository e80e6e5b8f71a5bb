"""Forward-auth: may a reverse proxy let a request through to the application behind it?
(nginx ``auth_request``, Traefik ForwardAuth, Caddy ``forward_auth``; docs/forward-auth.md.)

The proxy asks what the application requires: ``aal=2`` (two factors), ``max_age=SECONDS``
since the last authentication (OIDC Core 1.0 3.1.2.1's ``max_age``), ``account=ID`` (only that
account's members). The answer comes from the session's proof alone (the methods allauth
recorded: sessions/assurance.py), as the identity provider's step-up reads it (idp/step_up.py),
so that a check reads nothing else and writes nothing.

A session signed in below what is asked gets the step-up challenge of RFC 9470 section 3:
"insufficient_user_authentication", with the ``acr_values`` and ``max_age`` it must meet.
The sign-in page sends the browser back only to the hosts of ``TWOFOLD_FORWARD_AUTH_HOSTS``:
anything else would be an open redirect (ASVS 5.0 3.7.2).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from django.http.request import split_domain_port
from django.utils.http import is_same_domain

from twofold.idp.assurance import ACR_PREFIX
from twofold.idp.step_up import AAL2, Missing
from twofold.sessions import assurance

# What the proxy may ask, as query parameters of the check's address and of the sign-in page.
PARAMETERS = ("aal", "max_age", "account")


class InvalidRequest(ValueError):
    """A requirement the check cannot be answered with: the proxy's configuration is wrong."""


@dataclass(frozen=True)
class Required:
    aal2: bool = False
    max_age: int | None = None
    account: int | None = None

    def as_query(self) -> dict[str, str]:
        """The same requirement as query parameters (the sign-in page asks what the check did)."""
        query = {"aal": "2"} if self.aal2 else {}
        if self.max_age is not None:
            query["max_age"] = str(self.max_age)
        if self.account is not None:
            query["account"] = str(self.account)
        return query


def required(query: Mapping[str, str]) -> Required:
    aal = query.get("aal") or "1"
    if aal not in ("1", "2"):
        raise InvalidRequest("aal must be 1 or 2.")
    return Required(
        aal2=aal == "2",
        max_age=_whole_number(query, "max_age"),
        account=_whole_number(query, "account"),
    )


def _whole_number(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise InvalidRequest(f"{name} must be a whole number.")
    return int(raw)


@dataclass(frozen=True)
class Proof:
    """What a session proves: ``amr`` (RFC 8176), ``acr`` (``urn:twofold:aal1``/``aal2``) and
    when the member last authenticated (``auth_time``, seconds since the epoch)."""

    amr: list[str]
    acr: str
    auth_time: int | None


def proof(session: Mapping[str, Any], user_id: Any) -> Proof:
    """Read only: the identity provider's ``assurance.of_session`` also gives the session an
    ``sid``, which a check must not write."""
    recorded = assurance.records_of_user_id(session, user_id)
    times = [at for entry in recorded if isinstance(at := entry.get("at"), int | float)]
    return Proof(
        amr=assurance.amr(recorded),
        acr=ACR_PREFIX + assurance.session_level(recorded),
        auth_time=int(max(times)) if times else None,
    )


def shortfall(asked: Required, proved: Proof, now: float | None = None) -> Missing | None:
    """What the session must still prove: a second factor (aal2 asked, and not met or not
    recent enough), or a recent authentication (``max_age``); None when it meets the ask."""
    now = time.time() if now is None else now
    stale = asked.max_age is not None and (
        proved.auth_time is None or proved.auth_time < now - asked.max_age
    )
    if asked.aal2 and (proved.acr != AAL2 or stale):
        return Missing.SECOND_FACTOR
    return Missing.PASSWORD if stale else None


class Verdict(Enum):
    ALLOWED = "allowed"  # 200: through to the application
    STEP_UP = "step_up"  # 401: signed in, below what is asked (RFC 9470)
    FORBIDDEN = "forbidden"  # 403: a member of another account; signing in again won't help


def verdict(
    asked: Required, proved: Proof, organization_id: int, now: float | None = None
) -> Verdict:
    if asked.account is not None and asked.account != organization_id:
        return Verdict.FORBIDDEN
    return Verdict.ALLOWED if shortfall(asked, proved, now) is None else Verdict.STEP_UP


def step_up_challenge(asked: Required) -> str:
    """The ``WWW-Authenticate`` value of RFC 9470 section 3 for an insufficient session."""
    parameters = ['error="insufficient_user_authentication"']
    parameters.append('error_description="A stronger or more recent authentication is required"')
    if asked.aal2:
        parameters.append(f'acr_values="{AAL2}"')
    if asked.max_age is not None:
        parameters.append(f"max_age={asked.max_age}")
    return "Bearer " + ", ".join(parameters)


# --- Where the browser goes back to -------------------------------------------------------------


def return_url(candidate: str, allowed_hosts: Iterable[str]) -> str | None:
    """``candidate`` when it is an absolute http(s) URL to one of ``allowed_hosts``, else None.

    Refused: relative and scheme-relative addresses (``//evil.test``), a scheme without a host
    (``https:evil.test``), backslashes and control characters (which browsers read as ``/``
    or drop: ``https:\\\\evil.test``), user information (``https://app.test@evil.test``).
    """
    if any(c == "\\" or ord(c) <= 0x20 or ord(c) == 0x7F for c in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:  # an invalid port or IPv6 literal
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    if not any(_host_matches(parts.hostname, port, entry) for entry in allowed_hosts):
        return None
    return candidate


def _host_matches(hostname: str, port: int, entry: str) -> bool:
    """``entry`` as TWOFOLD_FORWARD_AUTH_HOSTS writes it: ``host`` (any port), ``host:port``,
    ``.domain`` (the domain and its subdomains, as Django's ALLOWED_HOSTS)."""
    domain, entry_port = split_domain_port(entry)
    if not domain:
        return False
    host = f"[{hostname}]" if ":" in hostname else hostname  # as split_domain_port gives IPv6
    if entry_port and str(port) != entry_port:
        return False
    return is_same_domain(host.lower(), domain)
