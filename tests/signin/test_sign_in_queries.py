"""The queries of one sign-in, pinned: the password hash should be its only real cost (issue 7).

Counted for the two configurations Twofold ships: the embedded default (SQLite, the database
cache, database sessions) and PostgreSQL + Redis (rate limits and sessions in Redis). A change
that adds a query fails here; docs/performance.md says what each one is for and what was removed.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

# allauth's rate limits on the database cache: per limit a lock (add), a read, a write and an
# unlock (delete). The password POST consumes ``login`` (per address) and ``login_failed`` (per
# address and per email) before the hash, and gives ``login_failed`` back after a right password:
# reserving first is what keeps parallel guesses within the limit.
RATE_LIMITS = 4 * (1 + 2 + 2)

# POST /accounts/login/ with the right password, for a member with SMS 2FA:
#   1 the email address (allauth's authentication by email)
#   1 the email addresses again (allauth's login rate limit by verification state)
#   3 membership, account, and whether the account requires SSO (sso/policy.py)
#   1 the email addresses again (allauth's email verification stage)
#   4 whether the member has a second factor, which ones (TOTP, SMS), the preferred one
#   1 the SMS factor (its number)
#   1 the second-factor lockout
#   1 the last text sent (resend cooldown)
#   1 the four daily SMS limits (number, member, address, account) in one query (were four)
#   1 the delivery record
#   4 a savepoint, the older codes superseded, the new code, release
#   4 the new session: its key is free, savepoint, insert, release
PASSWORD_POST_SMS = 23

# POST /accounts/2fa/ with the right code:
#   1 the session (with Redis: read from the cache)
#   1 the user of the pending login
#   3 whether the member has a second factor, which ones (TOTP, SMS)
#   2 the lockout, the latest code
#   2 the try counted, the code used
#   2 the lockout reset, the factor's last use
#   2 membership and account (the account's 2FA rule, signin/enrollment.py)
#   4 the new session id (ASVS 7.2.4): key free, savepoint, insert, release
#   2 the old session read and deleted
#   1 last_login
#   7 the device list: ended sessions purged (one DELETE), get-or-create in savepoints
#   1 the audit event
#   3 the session saved at the end: savepoint, update, release
CODE_POST = 31


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def expected_password_post(queries: int) -> int:
    return queries if _uses_redis() else queries + RATE_LIMITS


def test_password_post_of_a_member_with_sms_2fa(client, member_with_sms, django_assert_num_queries):
    client.get("/accounts/login/")
    with django_assert_num_queries(expected_password_post(PASSWORD_POST_SMS)):
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
    # 1 email address, 1 email addresses (rate limit), 3 membership/account/SSO, 1 email
    # addresses (verification stage), 1 has a second factor, 4 the new session, 1 last_login,
    # the device list: 1 purge of ended sessions (one DELETE) + 6 get-or-create in savepoints;
    # 1 audit event, 3 session saved at the end.
    queries = 1 + 1 + 3 + 1 + 1 + 4 + 1 + 1 + 6 + 1 + 3
    with django_assert_num_queries(expected_password_post(queries)):
        response = client.post(
            "/accounts/login/", {"login": member.user.email, "password": PASSWORD}
        )
    assert response.status_code == 302
