"""OpenTelemetry tracing (config/tracing.py): off, its modules not even imported, without
``OTEL_EXPORTER_OTLP_ENDPOINT``; with it, a span per request named after the route, without the
path's values or the query string, and exported over OTLP/HTTP by ``twofold serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e.conftest import serve
from tests.peers.harness import free_port, get, sqlite_pass_only
from twofold.config import tracing

TOKEN = "an-invitation-token-nobody-may-read"
CODE = "code-from-a-callback"
EXPORT_DEADLINE = 60.0  # a bound on the wait for the batch, not a measure


@pytest.fixture
def spans(settings: Any) -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test's clients, into memory (``settings`` restores MIDDLEWARE)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings.MIDDLEWARE = list(settings.MIDDLEWARE)
    tracing.instrument(provider)
    try:
        yield exporter
    finally:
        tracing.uninstrument()


def values_of(span: Any) -> str:
    return json.dumps({"name": span.name, **dict(span.attributes or {})})


@pytest.mark.django_db
def test_a_request_is_a_span_named_after_its_route(spans):
    answer = Client().get("/api/v1/me")
    (span,) = spans.get_finished_spans()
    assert span.name == "GET api/v1/me"
    assert span.attributes["http.route"] == "api/v1/me"
    assert span.attributes["http.status_code"] == answer.status_code
    assert span.attributes[tracing.REQUEST_ID] == answer.headers["X-Request-ID"]


@pytest.mark.django_db
def test_a_span_keeps_no_key_of_the_path_nor_the_query_string(spans):
    Client().get(f"/invitations/{TOKEN}/?code={CODE}&state=x")
    (span,) = spans.get_finished_spans()
    assert span.name == "GET invitations/<str:token>/"
    recorded = values_of(span)
    assert TOKEN not in recorded
    assert CODE not in recorded
    assert "/invitations/<str:token>/" in recorded


@pytest.mark.django_db
def test_a_path_no_route_matches_is_not_recorded(spans):
    Client().get(f"/{TOKEN}")
    (span,) = spans.get_finished_spans()
    assert span.name == "GET"
    assert TOKEN not in values_of(span)


def test_probes_make_no_span(spans):
    # Answered before the instrumentation's middleware: by any host, and at no cost.
    assert Client().get("/healthz").status_code == 200
    assert spans.get_finished_spans() == ()


# What tracing would import. redis-py 8 imports OpenTelemetry's API and metrics SDK by itself
# when they are installed (for metrics of its own, off unless configured): not these.
TRACING_MODULES = (
    "twofold.config.tracing",
    "opentelemetry.instrumentation",
    "opentelemetry.exporter",
    "opentelemetry.sdk.trace",
    "opentelemetry.proto",
    "google.protobuf",
)


def test_without_an_endpoint_nothing_of_tracing_is_imported(tmp_path):
    """The WSGI module gunicorn's workers import, in a process of its own: no tracing module
    in sys.modules, no middleware in MIDDLEWARE."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TWOFOLD_", "OTEL_")) and name != "DJANGO_SETTINGS_MODULE"
    }
    environ["TWOFOLD_DATA_DIR"] = str(tmp_path)
    program = (
        "import json, sys\n"
        "import twofold.config.wsgi\n"
        "from django.conf import settings\n"
        f"prefixes = {TRACING_MODULES!r}\n"
        "print(json.dumps({"
        "'modules': [m for m in sys.modules if m.startswith(prefixes)],"
        "'middleware': [m for m in settings.MIDDLEWARE if 'opentelemetry' in m]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"modules": [], "middleware": []}


# --- Exported by `twofold serve` ----------------------------------------------------------------


class Receiver:
    """A tiny OTLP/HTTP receiver on 127.0.0.1: every body POSTed to /v1/traces, decoded."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces":
                    receiver.requests.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, str], Any]]:
        """(the resource's attributes, the span) of every span received."""
        found = []
        for request in list(self.requests):
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope.spans)
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
        thread.join(timeout=10)


@sqlite_pass_only
def test_twofold_serve_exports_its_spans_to_the_otlp_endpoint(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # milliseconds between batches
    with serve(tmp_path, free_port()) as server:
        assert get(f"{server.url}/api/v1/me?code={CODE}").status_code == 401
        deadline = time.monotonic() + EXPORT_DEADLINE
        while not receiver.spans() and time.monotonic() < deadline:
            time.sleep(0.1)
    ((resource, span),) = receiver.spans()
    assert resource["service.name"] == "twofold"
    assert span.name == "GET api/v1/me"
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["http.route"].string_value == "api/v1/me"
    assert CODE not in str(span)
