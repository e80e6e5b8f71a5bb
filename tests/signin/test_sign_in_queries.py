"""The queries of one sign-in, pinned: the password hash should be its only real cost (issue 7).

Counted for the two configurations Twofold ships: the embedded default (SQLite, the database
cache, database sessions) and PostgreSQL + Redis (rate limits and sessions in Redis). A change
that adds a query fails here; docs/performance.md says what each one is for and what was removed.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import PASSWORD

# allauth's rate limits on the database cache. The password POST consumes ``login`` (per
# address) and ``login_failed`` (per address and per email) before the hash, and gives
# ``login_failed`` back after a right password: reserving first is what keeps parallel guesses
# within the limit.
#   4 ``login`` (allauth's view decorator): a lock (add), a read, a write, an unlock (delete)
#   3 ``login_failed`` reserved: both rates read in one statement, each written only if unchanged
#     since (compare-and-set, signin/ratelimit.py; were 8 with allauth's lock)
#   3 ``login_failed`` given back, the same way (were 8)
RATE_LIMITS = 4 + 3 + 3

# POST /accounts/login/ with the right password, for a member with SMS 2FA:
#   1 the email address (allauth's authentication by email)
#   1 the member's email addresses, once, before the hash: the failed sign-in limit's key (the
#     account, signin/account_key.py), allauth's login rate limit by verification state and its
#     email verification stage (signin/adapter.py; were 2 reads)
#   1 membership, account, and whether the account requires SSO, in one (sso/policy.py; were 3)
#   1 the member's factors (which ones, the SMS number, the preferred one), read once (were 5)
#   1 the second-factor lockout
#   5 the text's place reserved before the gateway is asked (sms/reservation.py): a savepoint
#     (inside a transaction, as here; in autocommit BEGIN IMMEDIATE and COMMIT), the resend
#     cooldown and the four daily SMS limits (number, member, address, account) in one query
#     (were two: the cooldown apart, and four limits before that), the reservation, release;
#     then the reservation marked sent (the delivery record)
#   4 a savepoint, the older codes superseded, the new code, release
#   3 the new session: savepoint, insert, release (the insert is the check that its key is
#     free; the savepoint only inside a transaction, as here: in autocommit a bare INSERT;
#     signin/session_store, were 4 with Django's exists() pre-check)
PASSWORD_POST_SMS = 17
# On PostgreSQL, the reservation's advisory locks (one per scope it counts in, one statement).
RESERVATION_LOCKS = 1

# POST /accounts/2fa/ with the right code:
#   1 the session (with Redis: read from the cache)
#   1 the user of the pending login
#   1 the member's factors (TOTP, security key, SMS number, preferred), membership and account,
#     read once for the whole request (registry.read_once; were 5 queries)
#   2 the lockout (its failure count too), the latest code
#   2 the try counted, the code used
#   1 the factor's last use (the lockout is reset only when the read found failures: were 2)
#   3 the new session id (ASVS 7.2.4): savepoint, insert, release (the insert is the check that
#     the key is free; savepoints only inside a transaction, as here, else bare statements;
#     signin/session_store, were 4)
#   1 the old session deleted by its key (were 2: read, then deleted)
#   1 last_login
#   2 the device list: ended sessions purged (one DELETE), this session's row upserted
#     (sessions/signals.py; were 7, a get-or-create in savepoints)
#   1 the audit event
#   3 the session saved at the end: savepoint, update, release (in autocommit: the update)
CODE_POST = 19

# GET /accounts/2fa/, the page asking for the texted code:
#   1 the session (with Redis: read from the cache)
#   1 the user of the pending login
#   1 the member's factors, membership and account, read once (were 9 queries: factors five
#     times, membership and account)
#   1 the last text sent (resend cooldown)
CODE_PAGE = 4


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def expected_password_post(queries: int) -> int:
    return queries if _uses_redis() else queries + RATE_LIMITS


def test_password_post_of_a_member_with_sms_2fa(client, member_with_sms, django_assert_num_queries):
    client.get("/accounts/login/")
    locks = RESERVATION_LOCKS if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(expected_password_post(PASSWORD_POST_SMS + locks)):
        response = client.post(
            "/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD}
        )
    assert response["Location"] == "/accounts/2fa/"


def test_code_post(client, member_with_sms, sms_outbox, django_assert_num_queries):
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    client.get("/accounts/2fa/")
    # With Redis, sessions are cached_db: the first read comes from the cache.
    with django_assert_num_queries(CODE_POST - 1 if _uses_redis() else CODE_POST):
        response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["data"]["aal"] == "aal2"


def test_code_page(client, member_with_sms, django_assert_num_queries):
    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    with django_assert_num_queries(CODE_PAGE - 1 if _uses_redis() else CODE_PAGE):
        response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    assert b"+41 " in response.content  # the masked number, from the one read


def test_the_code_page_read_is_not_kept_for_the_code_post(client, member_with_sms, sms_outbox):
    """The factors are read once per request, never across: one removed after the code page (an
    administrator's reset) is not accepted by the next POST."""
    from twofold.factors.sms.models import SmsFactor

    client.post("/accounts/login/", {"login": member_with_sms.user.email, "password": PASSWORD})
    client.get("/accounts/2fa/")
    SmsFactor.objects.filter(user=member_with_sms.user).delete()
    response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["data"]["aal"] == "aal1"


@pytest.mark.parametrize("earlier_sessions", [0, 3])
def test_password_post_costs_the_same_however_many_sessions_the_member_has(
    member, django_assert_num_queries, earlier_sessions
):
    """allauth checked each live session at every sign-in (3 queries each); now one purge."""
    from django.test import Client

    for _ in range(earlier_sessions):
        Client().post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    client = Client()
    client.get("/accounts/login/")
    # 1 email address, 1 the member's email addresses (rate limit and verification stage),
    # 1 membership/account/SSO, 1 the member's factors, 3 the new session, 1 last_login, the
    # device list: 1 purge of ended sessions (one DELETE) + 1 upsert of this session's row
    # (were 6: get-or-create in savepoints); 1 audit event, 3 session saved at the end.
    queries = 1 + 1 + 1 + 1 + 3 + 1 + 1 + 1 + 1 + 3
    with django_assert_num_queries(expected_password_post(queries)):
        response = client.post(
            "/accounts/login/", {"login": member.user.email, "password": PASSWORD}
        )
    assert response.status_code == 302
