"""/startupz: 503 until this process found its database migrated and warmed up once, then 200
without touching anything (web/health.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from twofold.web import health


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "_started", False)


def test_startupz_is_started_once_migrated_then_asks_nothing(db: Any, django_assert_num_queries):
    first = Client().get("/startupz")
    assert (first.status_code, first.json()) == (200, {"status": "started"})
    assert first.headers["Cache-Control"] == "no-store"
    with django_assert_num_queries(0):
        assert Client().get("/startupz").status_code == 200


def test_startupz_is_starting_while_migrations_are_missing(db: Any, monkeypatch):
    monkeypatch.setattr(health.schema, "pending_migrations", lambda connection: ["audit.0009_x"])
    response = Client().get("/startupz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "starting",
        "reasons": [
            "1 database migration is not applied (audit.0009_x, …): run `twofold migrate` first."
        ],
    }
    monkeypatch.undo()
    monkeypatch.setattr(health, "_started", False)
    assert Client().get("/startupz").status_code == 200  # asked again until it has started


def test_startupz_is_starting_while_an_sms_gateway_cannot_be_built(db: Any, monkeypatch, caplog):
    def broken() -> list[object]:
        raise RuntimeError("no SDK")

    monkeypatch.setattr(health, "configured_gateways", broken)
    response = Client().get("/startupz")
    assert response.status_code == 503
    assert response.json()["reasons"] == [
        "The URL configuration or an SMS gateway cannot be built (see the log)."
    ]
    assert "start-up: warming up failed" in caplog.text
