"""Daily send limits per number, member, IP address and account (DESIGN.md "Sending limits")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import MOBILE
from twofold.errors import TooManyRequests
from twofold.sms.limits import check_send_allowed, in_words
from twofold.sms.models import DeliveryStatus, SmsDelivery, number_hash
from twofold.sms.numbers import mask

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IP = "203.0.113.7"
HIGH = 1000


def record(*, ago: timedelta, to=MOBILE, user=None, organization=None, ip=None, status="sent"):
    return SmsDelivery.objects.create(
        created_at=NOW - ago,
        purpose="sign_in",
        user=user,
        organization=organization,
        ip=ip,
        to_masked=mask(to),
        to_hash=number_hash(to),
        gateway="outbox",
        status=status,
    )


def other_number(n: int) -> str:
    return f"+4179{n:07d}"


# (limit, what the repeated texts share, the message)
LIMITS = {
    "limit_per_number": ("number", "Too many text messages to this number today."),
    "limit_per_user": ("user", "You have asked for too many text messages today."),
    "limit_per_ip": ("ip", "Too many text messages were asked for from your network today."),
    "limit_per_organization": (
        "organization",
        "Your account has sent too many text messages today.",
    ),
}


@pytest.fixture
def only(sms_settings):
    """Set one limit to ``n`` and the others out of the way."""

    def configure(limit: str, n: int) -> None:
        limits = dict.fromkeys(LIMITS, HIGH)
        sms_settings(**{**limits, limit: n})

    return configure


def shared(scope: str, member, n: int) -> dict:
    """Texts that share ``scope`` and nothing else that is limited."""
    return {
        "number": {"to": MOBILE},
        "user": {"to": other_number(n), "user": member.user},
        "ip": {"to": other_number(n), "ip": IP},
        "organization": {"to": other_number(n), "organization": member.organization},
    }[scope]


def attempt(member):
    check_send_allowed(
        to=MOBILE, user=member.user, organization=member.organization, ip=IP, now=NOW
    )


@pytest.mark.parametrize("limit", LIMITS)
def test_each_limit_reached_refuses_with_when_to_try_again(member, only, limit):
    scope, message = LIMITS[limit]
    only(limit, 3)
    for n, hours_ago in enumerate([21, 5, 1]):
        record(ago=timedelta(hours=hours_ago), **shared(scope, member, n))

    with pytest.raises(TooManyRequests) as raised:
        attempt(member)

    assert raised.value.code == "sms_limit"
    assert raised.value.status == 429
    assert raised.value.retry_after == 3 * 3600  # the text of 21 h ago leaves the window
    assert raised.value.message == f"{message} Try again in 3 hours."


@pytest.mark.parametrize("limit", LIMITS)
def test_below_each_limit_sending_is_allowed(member, only, limit):
    scope, _ = LIMITS[limit]
    only(limit, 3)
    for n in range(2):
        record(ago=timedelta(hours=1), **shared(scope, member, n))
    attempt(member)


def test_texts_older_than_24_hours_do_not_count(member, only):
    only("limit_per_number", 2)
    record(ago=timedelta(hours=24))
    record(ago=timedelta(hours=30))
    record(ago=timedelta(hours=23, minutes=59))
    attempt(member)


def test_failed_attempts_do_not_count(member, only):
    only("limit_per_number", 2)
    for _ in range(5):
        record(ago=timedelta(minutes=5), status=DeliveryStatus.FAILED)
    record(ago=timedelta(minutes=5))
    attempt(member)


def test_other_numbers_users_and_addresses_do_not_count(member, only, make_member):
    stranger = make_member("eve@evil.test")
    only("limit_per_user", 1)
    record(ago=timedelta(hours=1), to=other_number(1), user=stranger.user, ip="198.51.100.1")
    attempt(member)


def test_retry_after_waits_for_enough_texts_to_leave_when_over_a_lowered_limit(member, only):
    only("limit_per_number", 2)
    for hours_ago in (20, 10, 2):  # 3 texts against a limit of 2: the oldest two must leave
        record(ago=timedelta(hours=hours_ago))
    with pytest.raises(TooManyRequests) as raised:
        attempt(member)
    assert raised.value.retry_after == 14 * 3600
    assert raised.value.message.endswith("Try again in 14 hours.")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "in a minute"), (60, "in a minute"), (61, "in 2 minutes"), (3599, "in an hour"),
     (3600, "in an hour"), (3601, "in 2 hours"), (86400, "in 24 hours")],
)  # fmt: skip
def test_waits_are_said_in_words_rounded_up(seconds, words):
    assert in_words(seconds) == words


def test_the_four_daily_limits_are_counted_in_one_query(member, django_assert_num_queries):
    for n, scope in enumerate(["number", "user", "ip", "organization"]):
        record(ago=timedelta(hours=1), **shared(scope, member, n))
    with django_assert_num_queries(1):  # was four COUNT(*), one per limit (issue 7)
        attempt(member)


def test_each_limit_is_counted_through_its_own_index(member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL plans by its statistics")
    with CaptureQueriesContext(connection) as counting:
        attempt(member)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {counting.captured_queries[0]['sql']}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    for column in ("to_hash", "user_id", "ip", "organization_id"):
        assert f"({column}=? AND status=? AND created_at>?)" in plan
