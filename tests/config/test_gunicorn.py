"""gunicorn's hooks: under the real ``twofold serve`` with two workers, the separate metrics
listener sums every worker's counts, an exited worker's included; without configuration there
is no listener and no directory."""

from __future__ import annotations

import os
import signal
import tempfile
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import serve
from tests.peers.harness import free_port
from twofold import cli
from twofold.config import gunicorn as hooks

LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
HEALTHZ = ("twofold_http_requests_total", {"route": "healthz", "method": "GET", "status": "200"})


def healthz_count(exposition: str) -> float:
    name, labels = HEALTHZ
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def per_process(directory: Path) -> dict[int, float]:
    """The healthz count in each process's own file (``counter_<pid>.db``)."""
    found = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        name, labels = HEALTHZ
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == name and sample.labels == labels:
                    found[pid] = sample.value
    return found


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists():  # reaped by gunicorn's master, which starts another
        assert time.monotonic() < deadline, f"worker {pid} did not exit"
        time.sleep(0.1)


def test_the_metrics_listener_sums_every_workers_counts_an_exited_ones_too(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where `twofold serve` makes its directory
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    metrics_port = free_port()
    scrape_url = f"http://127.0.0.1:{metrics_port}/metrics"
    with serve(data_dir, free_port(), WORKERS="2", METRICS_PORT=str(metrics_port)) as server:
        [directory] = tmp_path.glob("twofold-metrics-*")

        def scrape() -> float:
            with LOCAL.open(scrape_url, timeout=10) as answer:
                return healthz_count(answer.read().decode())

        def requests(count: int) -> None:
            for _ in range(count):  # a new connection each: any worker may take it
                with LOCAL.open(f"{server.url}/healthz", timeout=10) as answer:
                    assert answer.status == 200

        before = scrape()
        requests(30)
        assert scrape() - before == 30

        # A worker that counted exits (as after --max-requests); another takes its place.
        counted = {pid: n for pid, n in per_process(directory).items() if n}
        exited = next(iter(counted))
        os.kill(exited, signal.SIGTERM)
        wait_gone(exited)
        requests(10)

        assert scrape() - before == 40
        after = per_process(directory)
        assert after[exited] == counted[exited]  # its counts stay in the sum
        assert sum(after.values()) == scrape()
        assert len([pid for pid, n in after.items() if n]) >= 2  # summed across processes
    assert not directory.exists()  # removed when gunicorn stopped


def test_without_a_metrics_port_the_master_opens_no_listener(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr(hooks, "start_http_server", lambda *a, **k: opened.append(a))
    server = SimpleNamespace(log=SimpleNamespace(info=lambda *a: None))
    monkeypatch.setenv("TWOFOLD_DATA_DIR", str(tmp_path))
    for name in [n for n in os.environ if n.startswith("TWOFOLD_METRICS")]:
        monkeypatch.delenv(name)

    monkeypatch.delenv(hooks.MULTIPROCESS_DIR, raising=False)
    hooks.when_ready(server)  # metrics off: no directory either
    monkeypatch.setenv(hooks.MULTIPROCESS_DIR, str(tmp_path))
    hooks.when_ready(server)  # a directory (for the token's /metrics) but no port

    assert opened == []


@pytest.mark.parametrize("enabled", [False, True])
def test_serve_names_a_fresh_directory_only_with_metrics_on(tmp_path, monkeypatch, enabled):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(hooks.MULTIPROCESS_DIR, str(tmp_path / "an-old-one"))

    cli._metrics_directory(enabled=enabled)

    named = os.environ.get(hooks.MULTIPROCESS_DIR)
    if not enabled:
        assert named is None
        return
    assert named is not None
    assert Path(named).parent == tmp_path
    assert Path(named).is_dir()
    assert list(Path(named).iterdir()) == []
    os.rmdir(named)
