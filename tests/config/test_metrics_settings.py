"""The metrics' settings: off by default, a listener only where asked, a token long enough."""

from __future__ import annotations

from pathlib import Path

import pytest

from twofold.config import env
from twofold.config.env import ConfigurationError


def load(tmp_path: Path, **variables: str) -> env.TwofoldSettings:
    environ = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    return env.load(environ)


def test_metrics_are_off_by_default(tmp_path):
    settings = load(tmp_path)
    assert (settings.metrics_port, settings.metrics_token) == (None, None)
    assert settings.metrics_host == "127.0.0.1"


def test_the_listener_is_where_it_is_asked_for(tmp_path):
    settings = load(tmp_path, METRICS_PORT="9102", METRICS_HOST="0.0.0.0")
    assert (settings.metrics_host, settings.metrics_port) == ("0.0.0.0", 9102)


def test_the_token_may_come_from_a_file_and_never_prints(tmp_path):
    token_file = tmp_path / "metrics-token"
    token_file.write_text("t" * 40 + "\n")
    settings = load(tmp_path, METRICS_TOKEN_FILE=str(token_file))
    assert str(settings.metrics_token) == "t" * 40
    assert "t" * 40 not in repr(settings) + env.describe(settings)


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"METRICS_TOKEN": "short"}, "TWOFOLD_METRICS_TOKEN must be at least 32 characters"),
        ({"METRICS_PORT": "8000"}, "TWOFOLD_METRICS_PORT cannot be TWOFOLD_PORT"),
        ({"METRICS_PORT": "0"}, "TWOFOLD_METRICS_PORT=0 must be at least 1"),
        ({"METRICS_HOST": "0.0.0.0"}, "TWOFOLD_METRICS_HOST needs TWOFOLD_METRICS_PORT"),
    ],
    ids=["short-token", "public-port", "port-zero", "host-without-port"],
)
def test_contradictions_are_refused_with_what_to_set(tmp_path, variables, problem):
    with pytest.raises(ConfigurationError, match=problem):
        load(tmp_path, **variables)
