"""How Twofold opens SQLite (shared with the benchmark's baselines, which must open it the same)."""

from __future__ import annotations

from typing import Any


def options() -> dict[str, Any]:
    # WAL lets readers run beside the writer (sign-in 104 ms -> 33 ms, DESIGN.md); IMMEDIATE takes
    # the write lock at BEGIN so concurrent writers queue on busy_timeout instead of failing.
    return {
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    }
