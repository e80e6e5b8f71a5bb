"""Redis is an accelerator, not a single point of failure (config/redis_cache.py and the session
store, sessions/stores): with a Redis of the test's own killed, frozen and restarted, sessions,
sign-ins and rate limits keep working from the database, never a 500; a frozen Redis costs a
request at most one 250 ms socket timeout; /readyz says ``degraded`` and why; recovery needs no
restart; nothing ended or used during an outage comes back after it (ASVS 16.5.2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import caches
from django.test import Client

from tests.concurrency import at_once
from tests.conftest import PASSWORD, signed_in
from tests.redis_server import RedisServer, redis_server
from twofold import clock
from twofold.config import redis_cache
from twofold.errors import FlowError
from twofold.factors.totp import codes, flows
from twofold.organizations.models import Membership
from twofold.sso.models import SamlConnection
from twofold.sso.saml import remember_assertion

ME = "/api/v1/me"
LOGIN = "/_allauth/app/v1/auth/login"
RETRY_AFTER = 0.3  # the breaker's wait, shortened so a test sees Redis come back quickly


@pytest.fixture
def on_redis(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """Twofold configured as with ``TWOFOLD_REDIS_URL``, on the test's own Redis."""
    with redis_server() as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "twofold.config.redis_cache.FailoverRedisCache",
                "LOCATION": server.url,
                "KEY_PREFIX": "outage",
                "OPTIONS": {"FALLBACK": "database"},
            },
            "database": settings.CACHES["database"],
        }
        settings.SESSION_ENGINE = "twofold.sessions.stores.cached_db"
        monkeypatch.setattr(redis_cache, "RETRY_AFTER", RETRY_AFTER)
        yield server


def raw(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=2)


def session_copies(server: RedisServer) -> list[bytes]:
    return list(raw(server).scan_iter(match=f"outage:*{KEY_PREFIX}*"))


def wait_for_the_breaker() -> None:
    time.sleep(RETRY_AFTER + 0.1)


def me(client: Client, **headers: str) -> Any:
    response = client.get(ME, headers=headers)
    assert response.status_code == 200, response.content
    return response.json()["data"]["user"]["email"]


def sign_in(email: str) -> Any:
    return Client().post(
        LOGIN, {"email": email, "password": PASSWORD}, content_type="application/json"
    )


# --- Sessions and sign-ins without Redis --------------------------------------------------------


def test_asvs_16_5_2_a_signed_in_member_keeps_working_with_redis_down(
    on_redis: RedisServer, member: Membership
) -> None:
    """Django's cached_db wrote the session back to Redis without catching the error: a 500."""
    client = signed_in(Client(), member)
    assert me(client) == member.user.email  # the copy is in Redis now
    assert session_copies(on_redis)

    on_redis.kill()

    assert me(client) == member.user.email
    assert client.get("/").status_code == 200
    assert client.get("/settings/security/").status_code == 200


def test_asvs_16_5_2_sign_in_works_with_redis_down(
    on_redis: RedisServer, member: Membership
) -> None:
    on_redis.kill()

    response = sign_in(member.user.email)

    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]
    assert me(Client(), **{"X-Session-Token": token}) == member.user.email


@pytest.mark.django_db(transaction=True)
def test_asvs_6_3_1_failed_sign_ins_stay_limited_with_redis_down_20_at_once(
    on_redis: RedisServer, member: Membership
) -> None:
    """allauth's limit of 5 failures per address in 5 minutes counts on the database cache."""
    on_redis.kill()

    def wrong_password() -> str:
        data = {"email": member.user.email, "password": "not the password"}
        response = Client().post(LOGIN, data, content_type="application/json")
        answer = response.json()
        if "errors" not in answer:  # say what came instead (once seen under a loaded machine)
            return f"{response.status_code} without errors: {answer}"
        return str(answer["errors"][0]["code"])

    outcomes = at_once(wrong_password)

    assert (
        sorted(map(str, outcomes))
        == ["email_password_mismatch"] * 5 + ["too_many_login_attempts"] * 15
    )
    assert sign_in(member.user.email).status_code == 400  # still refused, with Redis down


def test_asvs_16_5_2_a_frozen_redis_costs_a_request_one_socket_timeout_at_most(
    on_redis: RedisServer, member: Membership
) -> None:
    """redis-py's default was 5 s per command, two commands a request: 5 to 10 s each."""
    client = signed_in(Client(), member)
    me(client)
    on_redis.freeze()

    started = time.monotonic()
    assert me(client) == member.user.email
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(10):
        assert me(client) == member.user.email
    next_ten = time.monotonic() - started

    assert first < 2 * redis_cache.SOCKET_TIMEOUT + 1.0  # one timeout, plus a loaded machine
    assert next_ten < 2.0  # the breaker is open: nobody waits for Redis


def test_asvs_16_5_2_readyz_is_200_degraded_with_the_reason_while_redis_is_down(
    on_redis: RedisServer, db: None
) -> None:
    assert Client().get("/readyz").json()["status"] == "ok"
    on_redis.kill()

    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"] == {"database": True, "migrations": True, "cache": True, "redis": False}
    assert "Redis cannot be used" in body["reasons"][0]
    assert "Error" in body["reasons"][0]  # redis-py's error, e.g. ConnectionError: …


def test_asvs_16_5_2_recovery_needs_no_restart(on_redis: RedisServer, member: Membership) -> None:
    client = signed_in(Client(), member)
    on_redis.kill()
    me(client)
    assert Client().get("/readyz").json()["status"] == "degraded"

    on_redis.start()  # again, empty, on the same port
    wait_for_the_breaker()

    assert me(client) == member.user.email
    assert session_copies(on_redis)  # the copy is kept in Redis again
    assert Client().get("/readyz").json()["status"] == "ok"


# --- Nothing ended or used during an outage comes back ------------------------------------------


def test_asvs_7_4_1_a_session_ended_while_redis_is_frozen_stays_ended_after(
    on_redis: RedisServer, member: Membership
) -> None:
    """The session's row is deleted, but Redis, frozen, keeps its copy: it must never be read."""
    client = signed_in(Client(), member)
    me(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    on_redis.freeze()

    assert client.delete("/_allauth/browser/v1/auth/session").status_code == 401  # signed out
    on_redis.thaw()
    assert session_copies(on_redis)  # the stale copy is still there
    wait_for_the_breaker()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(ME).status_code == 401


def test_asvs_7_4_1_a_session_ended_while_redis_is_down_stays_ended_after_it_restarts(
    on_redis: RedisServer, member: Membership
) -> None:
    client = signed_in(Client(), member)
    me(client)
    token_client = Client()
    response = sign_in(member.user.email)
    token = response.json()["meta"]["session_token"]
    me(token_client, **{"X-Session-Token": token})
    on_redis.kill()

    ended = Client().delete("/_allauth/app/v1/auth/session", headers={"X-Session-Token": token})
    assert ended.status_code == 401
    on_redis.start()
    wait_for_the_breaker()

    assert Client().get(ME, headers={"X-Session-Token": token}).status_code == 401
    assert me(client) == member.user.email  # the browser's session was not ended


def test_rfc_6238_an_app_code_used_before_redis_went_down_is_refused_after(
    on_redis: RedisServer, member_with_totp: Membership
) -> None:
    """The used step is kept with the factor in the database: losing Redis must not reopen it."""
    user, now = member_with_totp.user, clock.now()
    code = codes.code_at(member_with_totp.totp_secret, now)  # type: ignore[attr-defined]
    flows.verify(user, code, now=now)

    on_redis.kill()

    with pytest.raises(FlowError) as refused:
        flows.verify(user, code, now=now)
    assert refused.value.code == "code_invalid"


def test_asvs_6_8_3_an_assertion_seen_before_redis_went_down_is_refused_after(
    on_redis: RedisServer, administrator: Membership
) -> None:
    connection = SamlConnection.objects.create(
        organization=administrator.organization,
        slug="acme",
        name="acme",
        idp_entity_id="urn:acme",
        idp_sso_url="https://idp.test/sso",
        idp_certificate="-",
    )
    expires = clock.now() + timedelta(minutes=5)
    assert remember_assertion(connection, "_before", expires) is True

    on_redis.kill()

    assert remember_assertion(connection, "_before", expires) is False


# --- The cache itself ---------------------------------------------------------------------------


def test_asvs_16_5_2_the_cache_answers_from_the_database_while_redis_is_down(
    on_redis: RedisServer, db: None
) -> None:
    cache = caches["default"]
    cache.set("before", 1, 60)
    on_redis.kill()

    assert cache.get("before") is None  # not in the database cache: counts start afresh
    assert cache.add("during", 1, 60) is True
    assert cache.add("during", 1, 60) is False
    assert cache.get("during") == 1


def test_a_command_is_not_retried_and_waits_at_most_the_socket_timeout(
    on_redis: RedisServer, db: None
) -> None:
    cache = caches["default"]
    cache.set("warm", 1, 60)  # the connection is open
    on_redis.freeze()

    started = time.monotonic()
    cache.get("warm")
    waited = time.monotonic() - started

    assert waited < 2 * redis_cache.SOCKET_TIMEOUT + 0.5
    assert waited >= redis_cache.SOCKET_TIMEOUT * 0.9
