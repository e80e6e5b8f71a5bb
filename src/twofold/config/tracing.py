"""Optional OpenTelemetry tracing: a span per request, exported over OTLP/HTTP.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the OpenTelemetry SDK's own variable) is set:
``config/wsgi.py`` imports this module then, and only then, so that without it not one
OpenTelemetry package is imported. The SDK reads its other standard variables itself
(``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``...).

A span names the route (``GET invitations/<str:token>/``), never the path's values nor the query
string, as the access log does (web/request_log.py): links carry keys and callbacks carry codes,
and a trace store is read by more people than the audit log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span

from twofold.config import logs

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Inside the request id's middleware (the span carries the id of the request's log lines) and
# after the probes' (answered before the Host check that the instrumentation's URL needs).
AFTER_MIDDLEWARE = "twofold.web.health.HealthProbeMiddleware"
REQUEST_ID = "twofold.request_id"
# Where OpenTelemetry's HTTP conventions (old and stable) put the path and the query string.
_PATH_ATTRIBUTES = ("http.target", "url.path")
_URL_ATTRIBUTES = ("http.url", "url.full")
_QUERY_ATTRIBUTES = ("url.query",)


def wanted(environ: Mapping[str, str]) -> bool:
    return bool(environ.get(ENDPOINT))


def provider(environ: Mapping[str, str] = os.environ) -> TracerProvider:
    """The SDK's provider exporting in batches to the OTLP endpoint (``/v1/traces`` under it)."""
    named = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "twofold"}
    tracer_provider = TracerProvider(resource=Resource.create(named))
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return tracer_provider


def start() -> None:
    """Turn tracing on for this process (each gunicorn worker imports the WSGI module)."""
    tracer_provider = provider()
    trace.set_tracer_provider(tracer_provider)
    instrument(tracer_provider)


def instrument(tracer_provider: trace.TracerProvider) -> None:
    """Put OpenTelemetry's Django middleware in ``MIDDLEWARE``; call before the WSGI handler
    loads it."""
    position = list(settings.MIDDLEWARE).index(AFTER_MIDDLEWARE) + 1
    DjangoInstrumentor().instrument(
        tracer_provider=tracer_provider,
        middleware_position=position,
        request_hook=without_values,
    )


def uninstrument() -> None:
    DjangoInstrumentor().uninstrument()


def without_values(span: Span, request: HttpRequest) -> None:
    """Replace the path and the query string the instrumentation recorded with the route, and
    add the request id (X-Request-ID, the log lines' ``request_id``)."""
    if not span.is_recording():
        return
    route = route_of(request.path_info)
    recorded = getattr(span, "attributes", None) or {}
    for key in _PATH_ATTRIBUTES:
        if key in recorded:
            span.set_attribute(key, f"/{route}" if route is not None else "-")
    for key in _URL_ATTRIBUTES:
        if key in recorded:  # the host was checked before this hook runs
            span.set_attribute(key, f"{request.scheme}://{request.get_host()}/{route or '-'}")
    for key in _QUERY_ATTRIBUTES:
        if key in recorded:
            span.set_attribute(key, "")
    span.set_attribute(REQUEST_ID, logs.current_request_id())


def route_of(path: str) -> str | None:
    """The URL pattern that matches ``path``; None when none does (the path may hold anything)."""
    try:
        return str(resolve(path).route)
    except Resolver404:
        return None
