"""Probes for orchestrators: /healthz (the process answers), /readyz (its dependencies do),
/startupz (this process has started: checked its database once and warmed what it builds once).

They are answered before any other middleware: probes come by pod or host address, which is not
an allowed host, and they need no session, CSRF token or HTTPS redirect.

/readyz is 503 ``unavailable`` while the database cannot be reached, lacks migrations of this
code (every request would fail on a missing table), or its cache cannot be used; the body says
which check failed and why (``reasons``). With Redis configured, a Redis that cannot be used is
200 ``degraded``: Twofold serves on from the database (config/redis_cache.py), so the instance
stays in rotation, and ``checks.redis`` and the reason say so.

/startupz is 503 ``starting`` until this process has once found the database migrated and built
what it otherwise builds at its first sign-in (the URL resolver, the SMS gateways); from then on
it is 200 ``started`` without touching anything, as an orchestrator stops asking once it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache, caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import get_resolver

from twofold.config import schema
from twofold.config.redis_cache import FailoverRedisCache
from twofold.sms.delivery import configured_gateways

logger = logging.getLogger(__name__)


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readyz() -> JsonResponse:
    reasons: list[str] = []
    database = _database_ok(reasons)
    checks = {
        "database": database,
        "migrations": database and _migrations_ok(reasons),
        "cache": _cache_ok(reasons),
    }
    ready = all(checks.values())
    status = "ok" if ready else "unavailable"
    redis = caches["default"]
    if isinstance(redis, FailoverRedisCache):
        checks["redis"] = _redis_ok(redis, reasons)
        if ready and not checks["redis"]:
            status = "degraded"
    body: dict[str, object] = {"status": status, "checks": checks}
    if reasons:
        body["reasons"] = reasons
    return JsonResponse(body, status=200 if ready else 503, headers={"Cache-Control": "no-store"})


_started = False  # per process: each worker warms itself


def startupz() -> JsonResponse:
    global _started
    reasons: list[str] = []
    if not _started and _database_ok(reasons) and _migrations_ok(reasons):
        _started = _warmed(reasons)
    body: dict[str, object] = {"status": "started" if _started else "starting"}
    if reasons:
        body["reasons"] = reasons
    return JsonResponse(body, status=200 if _started else 503, headers=_NO_STORE)


PROBES: dict[str, Callable[[], JsonResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/startupz": startupz,
}
_NO_STORE = {"Cache-Control": "no-store"}


class HealthProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe()
        return self.get_response(request)


def _database_ok(reasons: list[str]) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("readiness: database unreachable")
        reasons.append("The database cannot be reached.")
        return False


def _migrations_ok(reasons: list[str]) -> bool:
    """One query: the applied migrations against this code's (config/schema.py)."""
    try:
        missing = schema.pending_migrations(connection)
    except Exception:
        logger.exception("readiness: migrations unreadable")
        reasons.append("The database's applied migrations cannot be read.")
        return False
    if missing:
        reasons.append(schema.pending_message(missing))
    return not missing


def _cache_ok(reasons: list[str]) -> bool:
    try:
        cache.set("twofold:readyz", "1", timeout=5)
        if cache.get("twofold:readyz") == "1":
            return True
    except Exception:
        logger.exception("readiness: cache unreachable")
    reasons.append("The cache cannot be used.")
    return False


def _warmed(reasons: list[str]) -> bool:
    """What the first request would otherwise build: every URL pattern, the SMS gateways (an
    SDK's client each)."""
    try:
        get_resolver().url_patterns  # noqa: B018  (imports every view module)
        configured_gateways()
    except Exception:
        logger.exception("start-up: warming up failed")
        reasons.append("The URL configuration or an SMS gateway cannot be built (see the log).")
        return False
    return True


def _redis_ok(redis: FailoverRedisCache, reasons: list[str]) -> bool:
    """Through the breaker: while it is open no probe waits for Redis; its reason is given."""
    if redis.ping():
        return True
    reasons.append(
        f"Redis cannot be used ({redis.unavailable_reason or 'no answer'}): sessions, sign-ins "
        "and rate limits run on the database until it is back."
    )
    return False
