"""The short path of ``GET /api/v1/me`` (api/session_check.py) enforces every rule of the full one.

Each rule is proved twice: the short path declines (``answer`` is None, so the full stack
decides), and the caller hears what the full stack says.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import DisallowedHost
from django.test import Client, RequestFactory

from tests.conftest import PASSWORD, signed_in
from twofold.api import session_check
from twofold.sessions import timeouts
from twofold.sessions.member_sessions import end_all_sessions

ME = "/api/v1/me"
SHORT_PATH = "twofold.api.session_check.SessionCheckMiddleware"
ENGINES = [
    "twofold.sessions.stores.db",
    "twofold.sessions.stores.cached_db",
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
]


@pytest.fixture(params=ENGINES, ids=["db", "cached_db", "django_db", "django_cached_db"])
def session_engine(request, settings):
    """Both stores Twofold configures: database sessions, and cached ones (with Redis); and
    Django's own, which they derive from and can read."""
    settings.SESSION_ENGINE = request.param
    return request.param


def early_request(client: Client, **headers):
    request = RequestFactory().get(ME, **headers)
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    return request


def checked_early(client: Client):
    """What the short path answers for ``client``'s session cookie (None: it declines)."""
    return session_check.answer(early_request(client))


def change_session(client: Client, **values) -> None:
    session = client.session
    session.update(values)
    session.save()


def aged(client: Client, *, signed_in_ago: float, seen_ago: float) -> None:
    now = time.time()
    change_session(
        client,
        **{timeouts.SIGNED_IN_AT: now - signed_in_ago, timeouts.LAST_SEEN_AT: now - seen_ago},
    )


def without_short_path(settings) -> Client:
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != SHORT_PATH]
    return Client()


def test_short_path_answers_as_the_full_view_with_the_same_headers(member_client, member, settings):
    assert checked_early(member_client) is not None
    early = member_client.get(ME)
    assert early.status_code == 200
    full_client = without_short_path(settings)
    full_client.cookies = member_client.cookies
    full = full_client.get(ME)
    assert early.json() == full.json()
    assert early.json()["data"]["user"]["email"] == member.user.email
    # The same headers, but each request has an id of its own.
    assert {**early.headers, "X-Request-ID": ""} == {**full.headers, "X-Request-ID": ""}
    assert early["Cache-Control"] == "no-store"  # never kept by a cache (ASVS 14.3.2)


def test_short_path_reads_the_session_then_the_member_in_one_query(
    member_client, django_assert_num_queries
):
    member_client.get(ME)  # last-seen is fresh now
    # The session (from the cache with cached_db sessions), then user, membership and account.
    cached = settings.SESSION_ENGINE.endswith("cached_db")
    with django_assert_num_queries(1 if cached else 2):
        assert member_client.get(ME).status_code == 200


def test_short_path_computes_djangos_session_auth_hash(member):
    row = session_check.active_member(member.user.pk)
    assert row is not None
    assert row.session_auth_hash() == member.user.get_session_auth_hash()


def test_short_path_names_the_right_member_and_account(
    member, administrator, other_administrator, session_engine
):
    clients = {m: signed_in(Client(), m) for m in (member, administrator, other_administrator)}
    for membership, client in clients.items():
        data = client.get(ME).json()["data"]
        assert checked_early(client) is not None
        assert data["user"] == {"id": membership.user.pk, "email": membership.user.email}
        assert data["organization"] == {
            "id": membership.organization_id,
            "name": membership.organization.name,
        }
        assert data["role"] == membership.role


def test_asvs_7_3_1_idle_session_is_refused_and_ended(member_client, session_engine):
    aged(member_client, signed_in_ago=60, seen_ago=settings.TWOFOLD_SESSION_IDLE_TIMEOUT + 5)
    key = member_client.session.session_key
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401
    assert not SessionStore().exists(key)


def test_asvs_7_3_2_session_past_its_absolute_lifetime_is_refused_even_when_active(
    member_client, session_engine
):
    aged(member_client, signed_in_ago=settings.SESSION_COOKIE_AGE + 5, seen_ago=1)
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_unstamped_session_is_refused(member_client):
    session = member_client.session
    del session[timeouts.SIGNED_IN_AT], session[timeouts.LAST_SEEN_AT]
    session.save()
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_last_seen_due_falls_through_to_the_full_stack_which_saves_it(
    member_client, session_engine
):
    aged(member_client, signed_in_ago=600, seen_ago=timeouts.SEEN_RESOLUTION + 5)
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 200
    assert time.time() - member_client.session[timeouts.LAST_SEEN_AT] < 5
    assert checked_early(member_client) is not None  # fresh again: the short path answers


def test_deactivated_member_is_refused_at_once(member_client, member, session_engine):
    assert checked_early(member_client) is not None
    # Only the flag, without ending the sessions: the short path must still refuse.
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_deactivation_by_an_administrator_ends_the_check_at_once(
    client, member, administrator, session_engine
):
    from twofold.organizations import flows

    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert client.get(ME).status_code == 200
    flows.deactivate_member(administrator, member.pk)
    assert checked_early(client) is None
    assert client.get(ME).status_code == 401


def test_ended_session_is_refused_at_once(client, member, session_engine):
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    assert client.get(ME).status_code == 200
    assert end_all_sessions(member.user) == 1
    assert checked_early(client) is None
    assert client.get(ME).status_code == 401


def test_signed_out_answer_is_never_reused(client, member, administrator, session_engine):
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(ME).json()["data"]["user"]["email"] == member.user.email
    client.post("/accounts/logout/")
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = key
    assert checked_early(stolen) is None
    assert stolen.get(ME).status_code == 401
    assert client.get(ME).status_code == 401
    client.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})
    assert client.get(ME).json()["data"]["user"]["email"] == administrator.user.email


def test_asvs_7_4_3_password_changed_elsewhere_ends_the_other_sessions(member_client, member):
    member.user.set_password("a brand new passphrase 42")
    member.user.save()
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_forged_session_hash_is_refused(member_client):
    change_session(member_client, **{HASH_SESSION_KEY: "0" * 64})
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_session_of_a_backend_no_longer_configured_is_refused(member_client, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert checked_early(member_client) is None
    assert member_client.get(ME).status_code == 401


def test_user_without_membership_is_left_to_the_full_view(member_client, member):
    member.delete()
    assert checked_early(member_client) is None
    answer = member_client.get(ME)
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "membership_missing"


@pytest.mark.parametrize("cookie", ["", "not-a-session", "x" * 32])
def test_unknown_or_malformed_cookie_is_refused(db, cookie):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert client.get(ME).status_code == 401


def test_host_not_allowed_is_refused_before_any_read(member_client, django_assert_num_queries):
    # As CommonMiddleware: Django's handler turns DisallowedHost into its 400 page.
    with django_assert_num_queries(0), pytest.raises(DisallowedHost):
        session_check.answer(early_request(member_client, HTTP_HOST="evil.test"))


def test_app_session_token_is_left_to_the_full_stack(member_client):
    request = early_request(member_client, HTTP_X_SESSION_TOKEN="whatever")
    assert session_check.answer(request) is None


def test_other_methods_reach_the_view(member_client):
    assert member_client.post(ME).status_code in (403, 405)  # CSRF or method, never a 200
    assert member_client.head(ME).status_code == 405
