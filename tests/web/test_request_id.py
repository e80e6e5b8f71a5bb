"""``X-Request-ID`` on every response (web/request_log.py): new and random, or a trusted proxy's;
the same id in every log record of the request, the early answers' included."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from tests.api.test_forward_auth import at_aal2
from tests.config.test_logs import Lines, access_lines, log_lines
from tests.conftest import signed_in
from twofold.web import request_log

pytestmark = pytest.mark.django_db
__all__ = ["log_lines"]  # a fixture

RANDOM_ID = re.compile(r"[0-9a-f]{32}")
# As nginx sends it, one proxy appending the client's address.
THROUGH_ONE_PROXY = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me", "/auth/forward", "/accounts/login/"])
def test_every_response_carries_a_new_random_request_id(path):
    first, second = Client().get(path), Client().get(path)
    assert RANDOM_ID.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_early_answers_carry_one_too(member):
    assert RANDOM_ID.fullmatch(signed_in(Client(), member).get("/api/v1/me")["X-Request-ID"])
    assert RANDOM_ID.fullmatch(at_aal2(Client(), member).get("/auth/forward")["X-Request-ID"])


def test_an_incoming_request_id_is_ignored_without_trusted_proxies(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID="chosen-by-the-client", **THROUGH_ONE_PROXY)
    assert RANDOM_ID.fullmatch(answer["X-Request-ID"])


def test_a_trusted_proxys_request_id_is_kept(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID="nginx-4f2a.01_b", **THROUGH_ONE_PROXY)
    assert answer["X-Request-ID"] == "nginx-4f2a.01_b"


def test_a_request_that_did_not_pass_every_trusted_proxy_keeps_no_id(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2  # one X-Forwarded-For entry: one proxy was skipped
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID="nginx-4f2a", **THROUGH_ONE_PROXY)
    assert RANDOM_ID.fullmatch(answer["X-Request-ID"])


@pytest.mark.parametrize(
    "incoming", ["x" * 129, "two words", "semi;colon", 'quote"', "ünï", "a/b", ""]
)
def test_a_proxys_request_id_that_is_too_long_or_not_plain_is_replaced(settings, incoming):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming, **THROUGH_ONE_PROXY)
    assert RANDOM_ID.fullmatch(answer["X-Request-ID"])


def test_an_id_of_128_plain_characters_is_kept(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    longest = "a1._-" * 25 + "xyz"
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID=longest, **THROUGH_ONE_PROXY)
    assert answer["X-Request-ID"] == longest


@pytest.mark.parametrize("log_lines", ["json"], indirect=True)
def test_every_record_of_a_request_carries_its_id(log_lines: Lines, member):
    answer = Client().post("/accounts/login/", {"login": member.user.email, "password": "wrong"})

    records = [json.loads(line) for line in log_lines()]
    ids = {r["request_id"] for r in records}
    assert ids == {answer["X-Request-ID"]}
    assert {"twofold.access", "twofold.audit"} <= {r["logger"] for r in records}


@pytest.mark.parametrize("log_lines", ["json"], indirect=True)
@pytest.mark.parametrize("path", ["/api/v1/me", "/auth/forward"])
def test_the_early_answers_get_an_access_line_with_the_member(
    log_lines: Lines,
    member,
    path,
):
    answer = at_aal2(Client(), member).get(path)
    assert answer.status_code == 200

    (line,) = access_lines(log_lines())
    assert line["request_id"] == answer["X-Request-ID"]
    assert (line["route"], line["status"]) == (path.lstrip("/"), 200)
    assert (line["user_id"], line["account_id"]) == (member.user_id, member.organization_id)


def test_no_access_line_is_built_while_the_access_log_is_off(monkeypatch):
    def refuse(*args: object) -> None:
        raise AssertionError("built a line nobody reads")

    monkeypatch.setattr(request_log.RequestLogMiddleware, "log", refuse)
    access = logging.getLogger("twofold.access")
    level = access.level
    access.setLevel(logging.WARNING)
    try:
        assert Client().get("/healthz").status_code == 200
    finally:
        access.setLevel(level)
