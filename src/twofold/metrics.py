"""Twofold's Prometheus metrics: every metric it exports, and the one call that records each.

Below every domain package, like ``clock.py``: flows record what they decide (a sign-in step, a
text, a refusal) where pages and the API share it, so a sign-in counts once whichever surface
it came by. Imports nothing of Twofold's (import-linter).

Labels take values from short fixed lists (methods, outcomes, gateways, limits, URL patterns),
never from the request (a path, an address, a member), so the series stay few.

Under ``twofold serve`` with metrics enabled every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, chosen when the library is
imported), and a scrape sums them (:func:`exposition`). Elsewhere (tests, ``manage.py``) the
values stay in the process.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# --- Sign-in -------------------------------------------------------------------------------------

# Methods of a sign-in's steps: the first (password, sso, passkey) and the second factor's (the
# names of factors/methods.py: sms, totp, webauthn, backup_code).
SUCCESS, FAILURE, LOCKED = "success", "failure", "locked"

_sign_ins = Counter(
    "twofold_sign_ins",
    "Sign-in steps by method (password, sso, passkey, sms, totp, webauthn, backup_code) and "
    "outcome (success; failure: a wrong answer; locked: refused unchecked, by the failed sign-in "
    "limit or the second-factor lock)",
    ("method", "outcome"),
)
_completed = Counter(
    "twofold_sign_ins_completed",
    "Sign-ins that passed every stage and started a session, by assurance level",
    ("aal",),
)
_second_factor_failures = Counter(
    "twofold_second_factor_failures",
    "Wrong second-factor answers, by method and purpose (sign_in, reauthenticate)",
    ("method", "purpose"),
)
_second_factor_locks = Counter(
    "twofold_second_factor_locks",
    "Second-factor locks imposed: the consecutive failure limit reached, or a failure past it",
)


def sign_in(method: str, outcome: str) -> None:
    _sign_ins.labels(method, outcome).inc()


def sign_in_completed(aal: str) -> None:
    _completed.labels(aal).inc()


def second_factor_failed(method: str, purpose: str) -> None:
    _second_factor_failures.labels(method, purpose).inc()


def second_factor_locked() -> None:
    _second_factor_locks.inc()


# --- SMS -----------------------------------------------------------------------------------------

_sms_attempts = Counter(
    "twofold_sms_sends",
    "Attempts at a gateway, by gateway and outcome (sent, failed, invalid_recipient)",
    ("gateway", "outcome"),
)
_sms_failovers = Counter(
    "twofold_sms_failovers",
    "Texts passed on to the next gateway, by the gateway that failed",
    ("gateway",),
)
_sms_texts = Counter(
    "twofold_sms_texts",
    "Texts asked for that reached the gateways, by purpose and outcome (sent; unavailable: no "
    "gateway took it; cannot_receive: the number cannot receive texts)",
    ("purpose", "outcome"),
)


def sms_attempt(gateway: str, outcome: str) -> None:
    _sms_attempts.labels(gateway, outcome).inc()


def sms_failover(gateway: str) -> None:
    _sms_failovers.labels(gateway).inc()


def sms_text(purpose: str, outcome: str) -> None:
    _sms_texts.labels(purpose, outcome).inc()


# --- Refusals, tokens, clean-ups -----------------------------------------------------------------

_rate_limited = Counter(
    "twofold_rate_limit_refusals",
    "Requests refused by a limit: login_failed (allauth's failed sign-in limit), "
    "sms_resend_cooldown, sms_per_number, sms_per_user, sms_per_ip, sms_per_organization",
    ("limit",),
)
_tokens = Counter(
    "twofold_tokens_issued",
    "Tokens issued by the identity provider's token endpoint, by grant type",
    ("grant_type",),
)
_cleanup_runs = Counter(
    "twofold_cleanup_runs",
    "Clean-up runs, by job and outcome (success, failure)",
    ("job", "outcome"),
)
_cleanup_deleted = Counter(
    "twofold_cleanup_deleted", "Rows deleted by clean-up runs, by job", ("job",)
)


def rate_limited(limit: str) -> None:
    _rate_limited.labels(limit).inc()


def token_issued(grant_type: str) -> None:
    _tokens.labels(grant_type).inc()


def cleanup_ran(job: str, outcome: str, deleted: int = 0) -> None:
    """One run of the clean-up ``job`` (``audit``, ``sms``, ...): ``outcome`` ``success`` or
    ``failure``, and how many rows it deleted (0 for a dry run or a failure)."""
    _cleanup_runs.labels(job, outcome).inc()
    if deleted:
        _cleanup_deleted.labels(job).inc(deleted)
    else:
        _cleanup_deleted.labels(job)  # the series exists from the first run: rate() sees zeros


# --- HTTP and password hashing -------------------------------------------------------------------

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_requests = Counter(
    "twofold_http_requests",
    "Requests by route (the URL pattern, never the path), method and status",
    ("route", "method", "status"),
)
_latency = Histogram(
    "twofold_http_request_duration_seconds",
    "Time Twofold took to make an answer, by route (the URL pattern)",
    ("route",),
    buckets=_LATENCY_BUCKETS,
)
_hash_wait = Histogram(
    "twofold_password_hash_slot_wait_seconds",
    "Time a password hash waited for a free hash slot (TWOFOLD_HASH_SLOTS)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
UNMATCHED = "unmatched"  # the route of a path no URL pattern matched
# One entry per (route, method, status) seen: labels() checks and locks on every call.
_request_series: dict[tuple[str | None, str | None, int], tuple[Counter, Histogram]] = {}


def request_done(route: str | None, method: str | None, status: int, seconds: float) -> None:
    """One answer (on the hot path: a dictionary look-up, then the two updates)."""
    key = (route, method, status)
    series = _request_series.get(key)
    if series is None:
        verb = method if method in _METHODS else "other"  # a method is whatever a client sent
        where = route or UNMATCHED
        series = (_requests.labels(where, verb, str(status)), _latency.labels(where))
        _request_series[key] = series
    series[0].inc()
    series[1].observe(seconds)


def hash_slot_waited(seconds: float) -> None:
    _hash_wait.observe(seconds)


# --- Exposition ----------------------------------------------------------------------------------


def collected() -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode, else this process."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    """The metrics in Prometheus's text format."""
    return generate_latest(collected())
