"""Security headers on every response, and the health probes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from twofold.config import checks


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/api/v1/me", "/nowhere"])
def test_security_headers_on_every_response(client, db, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_are_not_cached(member_client):
    assert member_client.get("/").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "<script>" not in html
    assert " on" + "click=" not in html


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_whatever_the_host_header(client, db, path):
    # Orchestrators probe by pod address, which is no allowed host.
    assert client.get(path, HTTP_HOST="10.1.2.3:8000").status_code == 200


def test_api_answers_are_not_cached(client, db):
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_readyz_reports_database_and_cache(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"database": True, "migrations": True, "cache": True}
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        expected["redis"] = True  # reported apart: without it Twofold is degraded, not down
    assert response.json() == {"status": "ok", "checks": expected}


def test_readyz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OSError("database is down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", broken_cursor)
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] is False


def test_readyz_is_503_when_the_cache_is_unreachable(client, db, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    found = response.json()["checks"]
    assert (found["database"], found["migrations"], found["cache"]) == (True, True, False)


def test_start_up_check_accepts_matching_libxml2():
    assert checks.libxml2_versions_match() == []


def test_start_up_check_refuses_mismatched_libxml2(monkeypatch):
    import xmlsec

    monkeypatch.setattr(xmlsec, "get_libxml_version", lambda: (2, 9, 1))
    errors = checks.libxml2_versions_match()
    assert [e.id for e in errors] == ["twofold.E001"]


def test_start_up_check_refuses_a_per_process_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [e.id for e in checks.cache_is_shared()] == ["twofold.E002"]


@pytest.mark.parametrize("path", ["/api/v1/me", "/_allauth/browser/v1/auth/session"])
def test_api_answers_a_host_not_allowed_with_a_json_400(client, db, path):
    response = client.get(path, HTTP_HOST="evil.test")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert [e["code"] for e in response.json()["errors"]] == ["host_not_allowed"]


def test_pages_answer_a_host_not_allowed_with_the_400_page(client, db):
    response = client.get("/accounts/login/", HTTP_HOST="evil.test")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
