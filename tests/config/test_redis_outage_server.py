"""A real ``twofold serve`` (gunicorn, one worker of 4 threads) on a Redis of the test's own,
frozen under load: every request with a session held a thread for 5 to 10 s and then answered
500, and ``/healthz`` waited behind them for a free thread. Now (ASVS 16.5.2) the requests answer
200 from the database after at most one 250 ms socket timeout, the probe answers at once,
``/readyz`` says ``degraded``, and Redis is used again once it is back, with no restart.
The database is a fresh SQLite file: the point is Redis, the same on either test backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import RedisServer, free_port, redis_server

EMAIL = "boss@initech.test"
PASSWORD = "a very long passphrase for the boss"
CONCURRENT = 8  # twice the worker's threads


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    seconds: float


class Server:
    def __init__(self, data_dir: Path, redis: RedisServer) -> None:
        self.port = free_port()
        self.environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
        self.environ.pop("DJANGO_SETTINGS_MODULE", None)
        self.environ.update(
            {
                "PYTHONPATH": os.pathsep.join(sys.path),
                "TWOFOLD_DATA_DIR": str(data_dir),
                "TWOFOLD_HOST": "127.0.0.1",
                "TWOFOLD_PORT": str(self.port),
                "TWOFOLD_WORKERS": "1",
                "TWOFOLD_REDIS_URL": redis.url,
            }
        )
        self.process: subprocess.Popen[bytes] | None = None

    def twofold(self, *args: str, stdin: str = "") -> None:
        done = subprocess.run(
            [sys.executable, "-m", "twofold.cli", *args],
            env=self.environ,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twofold.cli", "serve"],
            env=self.environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while self.call("GET", "/healthz", timeout=1).status != 200:
            if time.monotonic() > deadline:
                raise AssertionError("twofold serve did not answer /healthz")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's master: stops its worker
            self.process.wait(timeout=30)

    def call(
        self, method: str, path: str, data: Any = None, timeout: float = 30, **headers: str
    ) -> Answer:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/json", **headers},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except OSError:
            return Answer(0, {}, time.monotonic() - started)
        parsed = json.loads(raw) if raw.startswith(b"{") else {}
        return Answer(status, parsed, time.monotonic() - started)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, RedisServer]]:
    with redis_server() as redis:
        twofold = Server(tmp_path, redis)
        twofold.twofold("migrate", "--verbosity", "0")
        twofold.twofold(
            "create-account",
            *("--email", EMAIL, "--name", "Initech", "--password-stdin"),
            stdin=PASSWORD + "\n",
        )
        twofold.start()
        try:
            yield twofold, redis
        finally:
            redis.thaw()
            twofold.stop()


def test_asvs_16_5_2_a_frozen_redis_neither_fails_requests_nor_starves_healthz(
    server: tuple[Server, RedisServer],
) -> None:
    twofold, redis = server
    credentials = {"email": EMAIL, "password": PASSWORD}
    signed_in = twofold.call("POST", "/_allauth/app/v1/auth/login", credentials)
    assert signed_in.status == 200, signed_in.body
    token = {"X-Session-Token": signed_in.body["meta"]["session_token"]}
    assert twofold.call("GET", "/api/v1/me", **token).status == 200
    redis.freeze()

    with ThreadPoolExecutor(CONCURRENT + 1) as pool:
        calls = [
            pool.submit(twofold.call, "GET", "/api/v1/me", None, 30, **token)
            for _ in range(CONCURRENT)
        ]
        time.sleep(0.05)  # the probe comes while the threads are busy
        probe = pool.submit(twofold.call, "GET", "/healthz").result()
        answers = [call.result() for call in calls]

    print(  # the measured figures, for the record
        f"\nfrozen Redis: {CONCURRENT} concurrent /api/v1/me: statuses "
        f"{sorted(a.status for a in answers)}, slowest {max(a.seconds for a in answers):.3f} s; "
        f"/healthz {probe.status} in {probe.seconds:.3f} s"
    )
    assert [a.status for a in answers] == [200] * CONCURRENT
    assert max(a.seconds for a in answers) < 3.0  # was 5 to 10 s each, then 500
    assert probe.status == 200
    assert probe.seconds < 1.5  # was queued behind the blocked threads
    ready = twofold.call("GET", "/readyz")
    assert (ready.status, ready.body["status"]) == (200, "degraded")

    redis.thaw()
    redis.kill()
    assert twofold.call("GET", "/api/v1/me", **token).status == 200
    redis.start()
    time.sleep(2.5)  # the breaker's wait: then one request tries Redis again
    assert twofold.call("GET", "/api/v1/me", **token).status == 200
    assert twofold.call("GET", "/readyz").body["status"] == "ok"  # no restart
