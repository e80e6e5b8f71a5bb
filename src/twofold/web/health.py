"""Probes for orchestrators: /healthz (the process answers), /readyz (its dependencies do)."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    ready = all(checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("readiness: database unreachable")
        return False


def _cache_ok() -> bool:
    try:
        cache.set("twofold:readyz", "1", timeout=5)
        return cache.get("twofold:readyz") == "1"
    except Exception:
        logger.exception("readiness: cache unreachable")
        return False
