"""``GET /metrics`` on the public port, for a scraper holding ``TWOFOLD_METRICS_TOKEN``.

Without the token configured this middleware is not installed and ``/metrics`` is a 404 like
any unknown path: the metrics are never open on the public port by default (the separate
listener, ``TWOFOLD_METRICS_PORT``, is served by gunicorn's master: config/gunicorn.py). Answered
before the other middleware, as the probes are: a scraper comes by pod or host address and
needs no session, CSRF token or HTTPS redirect.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from twofold import metrics

METRICS_PATH = "/metrics"
NO_STORE = {"Cache-Control": "no-store"}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "replace")).digest()


class MetricsEndpointMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        token = settings.TWOFOLD.metrics_token
        if token is None:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.expected = _digest(f"Bearer {token}")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != METRICS_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        given = request.META.get("HTTP_AUTHORIZATION", "")
        # Digests of equal length, compared in constant time: neither the token's characters
        # nor its length can be guessed from how long a refusal takes.
        if not hmac.compare_digest(_digest(given), self.expected):
            challenge = {"WWW-Authenticate": 'Bearer realm="twofold-metrics"'}
            return HttpResponse(status=401, headers={**NO_STORE, **challenge})
        body = metrics.exposition()
        return HttpResponse(body, content_type=metrics.CONTENT_TYPE, headers=NO_STORE)
