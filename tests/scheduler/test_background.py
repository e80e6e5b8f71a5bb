"""The scheduler's thread (scheduler/background.py): started only by a serving process with
``TWOFOLD_SCHEDULER=on``, stopped on request; never by the other commands."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from twofold import cli
from twofold.config import env
from twofold.scheduler import background


def scheduler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "twofold-scheduler"]


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set at the thread's first tick, which runs nothing."""
    ticked = threading.Event()

    def run_due(runner: str, **kwargs: Any) -> list[Any]:
        ticked.set()
        return []

    monkeypatch.setattr(background, "run_due", run_due)
    return ticked


def test_with_the_scheduler_off_a_serving_process_starts_nothing(
    settings: LazySettings, ticks: threading.Event
) -> None:
    settings.TWOFOLD = dataclasses.replace(settings.TWOFOLD, scheduler=False)

    assert background.start_in_this_process() is None

    assert scheduler_threads() == []
    assert not ticks.is_set()


def test_with_the_scheduler_on_a_serving_process_ticks_and_stops_when_asked(
    settings: LazySettings, ticks: threading.Event
) -> None:
    settings.TWOFOLD = dataclasses.replace(settings.TWOFOLD, scheduler=True)

    scheduler = background.start_in_this_process()
    assert scheduler is not None
    try:
        assert ticks.wait(timeout=30)
    finally:
        assert scheduler.stop(wait=timedelta(seconds=30))
    assert scheduler_threads() == []


@pytest.mark.django_db
def test_the_commands_never_start_the_scheduler(ticks: threading.Event) -> None:
    assert cli.main(["purge-devices", "--dry-run"]) == 0
    assert scheduler_threads() == []
    assert not ticks.is_set()


@pytest.mark.parametrize(("value", "on"), [(None, True), ("on", True), ("off", False)])
def test_the_scheduler_is_on_unless_turned_off(tmp_path: Path, value: str | None, on: bool) -> None:
    environ = {} if value is None else {"TWOFOLD_SCHEDULER": value}
    assert env.load(environ, cwd=tmp_path).scheduler is on


def test_a_scheduler_setting_other_than_on_or_off_is_refused(tmp_path: Path) -> None:
    with pytest.raises(env.ConfigurationError, match="TWOFOLD_SCHEDULER='cron' is not one of"):
        env.load({"TWOFOLD_SCHEDULER": "cron"}, cwd=tmp_path)
