"""gunicorn's hooks for ``twofold serve`` (``--config=python:twofold.config.gunicorn``): the
metrics of every worker, summed.

With metrics enabled, ``twofold serve`` makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` before
gunicorn starts, so every worker imports prometheus_client in multiprocess mode and writes its
values to files of its own there. The master holds no metrics: it serves the separate listener
(``TWOFOLD_METRICS_PORT``), which sums the files at each scrape, tells the library when a worker
has exited, and removes the directory when gunicorn stops. Without the directory (metrics off,
or gunicorn run by ``python -m bench.baseline``) every hook does nothing.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from twofold.config import env

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _directory() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR) or None


def when_ready(server: Any) -> None:
    """The listeners are bound and no worker runs yet: open the metrics listener, if any."""
    directory = _directory()
    if directory is None:
        return
    settings = env.load()  # `twofold serve` checked it already; read, not trusted from argv
    if settings.metrics_port is None:
        return
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    server.log.info("Metrics at http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited (restarted after --max-requests, or killed): its live gauges go; its
    counters stay in the sums, so they never go down."""
    directory = _directory()
    if directory is not None:
        mark_process_dead(worker.pid, path=directory)


def on_exit(server: Any) -> None:
    """gunicorn stops: the next start begins with a fresh directory, these files go now."""
    directory = _directory()
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
