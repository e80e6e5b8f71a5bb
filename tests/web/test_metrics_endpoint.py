"""``/metrics`` on the public port: a 404 unless TWOFOLD_METRICS_TOKEN is set, then only for a
request carrying that bearer token."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from twofold.config.secret import Secret

TOKEN = "m" * 40


@pytest.fixture
def token_configured(settings):
    settings.TWOFOLD = replace(settings.TWOFOLD, metrics_token=Secret(TOKEN))


def test_without_a_token_configured_metrics_are_not_on_the_public_port(db):
    for authorization in ("", f"Bearer {TOKEN}"):
        answer = Client().get("/metrics", HTTP_AUTHORIZATION=authorization)
        assert answer.status_code == 404
        assert b"twofold_" not in answer.content


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN],
    ids=["none", "empty", "no-token", "short", "longer", "basic", "no-scheme"],
)
def test_a_missing_or_wrong_token_is_refused(token_configured, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    answer = Client().get("/metrics", **headers)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert b"twofold_" not in answer.content


def test_the_right_token_reads_the_exposition(token_configured):
    client = Client()
    client.get("/healthz")
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert answer["Cache-Control"] == "no-store"
    names = {family.name for family in text_string_to_metric_families(answer.content.decode())}
    assert {"twofold_http_requests", "twofold_sign_ins"} <= names


def test_only_get_and_head_are_answered(token_configured):
    answer = Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code in (403, 404, 405)
    assert b"twofold_" not in answer.content
