"""Run the suite again on PostgreSQL + Redis, when they are reachable.

``python -m tests.services [pytest args]``: probes both services; runs pytest with
``TWOFOLD_TEST_BACKEND=services`` when they answer; otherwise skips with the reason, or fails
when ``TWOFOLD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get("TWOFOLD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("TWOFOLD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def required() -> bool:
    return os.environ.get("TWOFOLD_REQUIRE_SERVICES") == "1"


def missing() -> list[str]:
    """The services that do not answer, as sentences."""
    problems = []
    try:
        import psycopg

        psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=3).close()
    except Exception as error:
        problems.append(f"PostgreSQL at {POSTGRES_URL} does not answer ({error})")
    redis = urlsplit(REDIS_URL)
    try:
        address = (redis.hostname or "127.0.0.1", redis.port or 6379)
        with socket.create_connection(address, timeout=3) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                problems.append(f"Redis at {REDIS_URL} did not answer PING")
    except OSError as error:
        problems.append(f"Redis at {REDIS_URL} does not answer ({error})")
    return problems


def main(pytest_args: list[str]) -> int:
    problems = missing()
    if problems:
        for problem in problems:
            print(f"services: {problem}", file=sys.stderr)
        if required():
            print("services: TWOFOLD_REQUIRE_SERVICES=1, so this is a failure", file=sys.stderr)
            return 1
        print("services: SKIPPED the PostgreSQL + Redis run", file=sys.stderr)
        return 0
    os.environ["TWOFOLD_TEST_BACKEND"] = "services"
    import pytest

    print("services: running the suite on PostgreSQL + Redis", flush=True)
    return int(pytest.main(pytest_args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
