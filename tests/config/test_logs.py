"""Twofold's log lines (config/logs.py): text by default, one JSON object per line with
TWOFOLD_LOG_FORMAT=json, the request id in each, and the access line's fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from logging.config import DictConfigurator
from typing import Any

import pytest
from django.test import Client

from tests.conftest import signed_in
from twofold.config import env, logs
from twofold.organizations.models import Membership

Lines = Callable[[], list[str]]


@pytest.fixture
def log_lines(request: pytest.FixtureRequest) -> Iterator[Lines]:
    """Every record of every logger, formatted as the console handler formats them in
    ``request.param`` ("text" or "json", default "text"), with the root logger and Twofold's at
    DEBUG (TWOFOLD_LOG_LEVEL=DEBUG); the libraries Twofold quiets keep their level."""
    log_format = getattr(request, "param", "text")
    configured = DictConfigurator(logs.config("DEBUG", log_format))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        configured.configure_formatter(configured.config["formatters"][log_format])
    )
    handler.addFilter(logs.RequestIdFilter())
    root, twofold = logging.getLogger(), logging.getLogger("twofold")
    levels = root.level, twofold.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    twofold.setLevel(logging.DEBUG)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        twofold.setLevel(levels[1])


def access_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, lines) if r["logger"] == "twofold.access"]


def test_the_log_format_is_text_unless_json_is_asked(tmp_path):
    assert env.load({"TWOFOLD_DATA_DIR": str(tmp_path)}).log_format == "text"
    given = {"TWOFOLD_DATA_DIR": str(tmp_path), "TWOFOLD_LOG_FORMAT": "JSON"}
    assert env.load(given).log_format == "json"


def test_an_unknown_log_format_is_refused_at_start_up(tmp_path):
    given = {"TWOFOLD_DATA_DIR": str(tmp_path), "TWOFOLD_LOG_FORMAT": "xml"}
    with pytest.raises(env.ConfigurationError, match="TWOFOLD_LOG_FORMAT='xml'"):
        env.load(given)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_console_handler_writes_the_chosen_format(log_format):
    config = logs.config("INFO", log_format)
    assert config["handlers"]["console"]["formatter"] == log_format
    assert config["handlers"]["console"]["filters"] == ["request_id"]
    assert config["loggers"]["twofold"]["level"] == "INFO"


def test_the_libraries_that_log_secrets_stay_at_warning_at_debug():
    config = logs.config("DEBUG", "text")
    for name in ("oauthlib", "oauth2_provider", "django.db.backends"):
        assert config["loggers"][name]["level"] == "WARNING"
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)  # as configured now


@pytest.mark.parametrize("log_lines", ["json"], indirect=True)
def test_a_json_line_is_one_object_with_time_level_logger_message_and_request_id(log_lines):
    token = logs.bind_request_id("req-1")
    try:
        logging.getLogger("twofold.sms").warning("SMS via %s failed", "twilio")
    finally:
        logs.unbind_request_id(token)
    logging.getLogger("twofold.sms").info("outside a request")

    first, second = map(json.loads, log_lines())
    assert first["level"] == "WARNING"
    assert first["logger"] == "twofold.sms"
    assert first["message"] == "SMS via twilio failed"
    assert first["request_id"] == "req-1"
    assert first["time"].endswith("+00:00")  # ISO 8601, UTC
    assert second["request_id"] == logs.NO_REQUEST


@pytest.mark.parametrize("log_lines", ["text"], indirect=True)
def test_a_text_line_names_level_logger_and_request_id(log_lines):
    token = logs.bind_request_id("req-2")
    try:
        logging.getLogger("twofold.audit").info("an event")
    finally:
        logs.unbind_request_id(token)
    (line,) = log_lines()
    assert line.endswith(" INFO twofold.audit [req-2]: an event")


@pytest.mark.django_db
@pytest.mark.parametrize("log_lines", ["json"], indirect=True)
def test_the_access_line_has_route_method_status_duration_and_the_member(
    log_lines: Lines, member: Membership
):
    client = signed_in(Client(), member)
    answer = client.get("/api/v1/members")  # the full stack (the short path: tests/web)

    (line,) = access_lines(log_lines())
    assert line["level"] == "INFO"
    assert line["request_id"] == answer["X-Request-ID"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "api/v1/members", 200)
    assert isinstance(line["duration_ms"], float)
    assert (line["user_id"], line["account_id"]) == (member.user_id, member.organization_id)


@pytest.mark.django_db
@pytest.mark.parametrize("log_lines", ["json", "text"], indirect=True)
def test_the_access_line_names_the_route_never_the_paths_values_or_query(log_lines):
    assert Client().get("/invitations/token-in-the-link-4711/?code=4712").status_code == 404
    assert Client().get("/no/such/page-4713?code=4714").status_code == 404

    written = "\n".join(log_lines())
    assert "invitations/<str:token>/" in written
    assert "Not Found: invitations/<str:token>/" in written  # Django's own warning, so too
    for value in ("4711", "4712", "4713", "4714"):
        assert value not in written


@pytest.mark.django_db
@pytest.mark.parametrize("log_lines", ["json"], indirect=True)
def test_a_signed_out_request_has_no_member_fields(log_lines):
    Client().get("/healthz")
    (line,) = access_lines(log_lines())
    assert (line["route"], line["status"]) == ("healthz", 200)
    assert "user_id" not in line
    assert "account_id" not in line
