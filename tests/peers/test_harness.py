"""The harness that starts the peers: a peer slow to start gets a second chance, not a third."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from subprocess import Popen

import pytest

from tests.peers import harness

# A peer that, at its first start, waits instead of listening; then serves its folder.
SLOW_ONCE = """
import http.server, pathlib, sys, time
first = pathlib.Path("started")
if not first.exists() or sys.argv[2] == "never":
    first.write_text("1")
    time.sleep(60)
handler = http.server.SimpleHTTPRequestHandler
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"""


def _start(tmp_path: Path, port: int, mode: str) -> AbstractContextManager[Popen[bytes]]:
    command = [sys.executable, "-c", SLOW_ONCE, str(port), mode]
    return harness.running(
        "slow", command, cwd=tmp_path, ready_url=f"http://127.0.0.1:{port}/", env={}
    )


def test_a_peer_that_does_not_answer_in_time_is_started_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "START_TIMEOUT", 1.0)
    port = harness.free_port()
    with _start(tmp_path, port, "once") as process:
        assert process.poll() is None
        assert harness.get(f"http://127.0.0.1:{port}/").status_code == 200
    assert process.poll() is not None  # stopped with the block


def test_a_peer_that_fails_to_answer_twice_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "START_TIMEOUT", 1.0)
    with pytest.raises(harness.PeerDidNotStart), _start(tmp_path, harness.free_port(), "never"):
        pass
