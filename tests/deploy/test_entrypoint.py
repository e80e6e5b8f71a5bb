"""The image's entrypoint (deploy/entrypoint.sh), run for real as the container runs it: in
production mode with the secrets in files, on a fresh data directory and database (SQLite; a
fresh PostgreSQL database and Redis in the services pass). It checks, migrates, then becomes
the command it was given, ``twofold serve`` by default, which is stopped once /readyz answers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.files import ENTRYPOINT, production_secrets
from tests.peers.harness import free_port, stop

START_DEADLINE = 180.0  # a bound on the wait, not a measure: migrations run first
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None (SQLite in the data directory); in the services pass, a fresh PostgreSQL database,
    dropped afterwards."""
    if os.environ.get("TWOFOLD_TEST_BACKEND") != "services":
        yield None
        return
    import psycopg

    from tests.services import POSTGRES_URL

    name = f"twofold_entrypoint_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def container_environment(tmp_path: Path, database_url: str | None) -> dict[str, str]:
    """What compose.yaml gives an instance, on this machine: production, secrets in files."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TWOFOLD_", "OTEL_")) and name != "DJANGO_SETTINGS_MODULE"
    }
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    names = ["SECRET_KEY", "FACTOR_KEY", "OIDC_PRIVATE_KEY"]
    environ.update(production_secrets(secrets_dir, *names))
    if database_url is not None:
        from tests.services import REDIS_URL

        (secrets_dir / "database_url").write_text(database_url)
        environ["TWOFOLD_DATABASE_URL_FILE"] = str(secrets_dir / "database_url")
        environ["TWOFOLD_REDIS_URL"] = REDIS_URL
    environ.update(
        # The image's own (Containerfile), but on loopback.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        TWOFOLD_MODE="production",
        TWOFOLD_HOST="127.0.0.1",
        TWOFOLD_PORT=str(free_port()),
        TWOFOLD_DATA_DIR=str(tmp_path / "data"),
        TWOFOLD_PUBLIC_URL="https://login.example.test",
        TWOFOLD_WORKERS="1",
        # A provider (production refuses the outbox); never asked here.
        TWOFOLD_SMS_GATEWAYS="webhook",
        TWOFOLD_SMS_WEBHOOK_URL="http://127.0.0.1:9/sms",
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    return environ


def entrypoint(environ: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *command],
        env=environ,
        cwd=Path(environ["TWOFOLD_DATA_DIR"]).parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def readyz(url: str) -> dict[str, object] | None:
    try:
        with _LOCAL.open(f"{url}/readyz", timeout=5) as answer:
            return dict(json.load(answer))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_entrypoint_checks_migrates_then_serves(container_environment, tmp_path):
    log = tmp_path / "container.log"
    url = f"http://127.0.0.1:{container_environment['TWOFOLD_PORT']}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ENTRYPOINT)],
            env=container_environment,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_DEADLINE
        ready = readyz(url)
        while ready is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            ready = readyz(url)
        printed = log.read_text(errors="replace")
        assert ready is not None, f"no answer from /readyz (exit {process.poll()}):\n{printed}"
        assert ready["status"] == "ok", ready
    finally:
        stop(process)
    checked = printed.index("Twofold configuration is valid (production mode).")
    migrated = printed.index("Operations to perform:")
    served = printed.index("Twofold serves on https://login.example.test")
    assert checked < migrated < served


def test_entrypoint_becomes_the_command_it_is_given(container_environment):
    done = entrypoint(container_environment, "sh", "-c", 'echo "instead of serve: $$"; exit 7')
    assert done.returncode == 7, done.stderr
    assert "Twofold configuration is valid" in done.stdout
    assert done.stdout.index("Operations to perform:") < done.stdout.index("instead of serve")


def test_entrypoint_migrates_again_without_harm(container_environment):
    """Every instance runs it at start-up: the second finds nothing to do."""
    assert entrypoint(container_environment, "true").returncode == 0
    again = entrypoint(container_environment, "true")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply." in again.stdout


def test_a_failing_check_stops_the_entrypoint_before_migrating(container_environment):
    # Named on purpose, the outbox starts with the warning twofold.W001: --deploy fails on it.
    container_environment["TWOFOLD_SMS_GATEWAYS"] = "outbox"
    done = entrypoint(container_environment, "sh", "-c", "echo served")
    assert done.returncode != 0
    assert "twofold.W001" in done.stdout + done.stderr
    assert "Operations to perform:" not in done.stdout
    assert "served" not in done.stdout
