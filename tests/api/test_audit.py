"""The audit log in the JSON API: /api/v1/audit-events, its CSV, and /api/v1/me/security-events."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tests.audit.conftest import AGENT, DAY, IP, Log, write_log
from twofold.audit.events import Event
from twofold.audit.export import COLUMNS
from twofold.audit.record import record
from twofold.organizations.models import Membership

EVENTS = "/api/v1/audit-events"
CSV = "/api/v1/audit-events.csv"
OWN = "/api/v1/me/security-events"
MARCH = {"since": "2025-03-01", "until": "2025-03-31"}


@pytest.fixture
def log(administrator: Membership, member: Membership, other_administrator: Membership) -> Log:
    return write_log(administrator, member, other_administrator)


def items(response: HttpResponse) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return list(response.json()["data"]["items"])


def errors(response: HttpResponse) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def test_audit_events_lists_the_accounts_events_newest_first(
    administrator_client: Client, log: Log
) -> None:
    listed = items(administrator_client.get(EVENTS, MARCH))

    assert [i["id"] for i in listed] == [e.pk for e in log.acme]
    assert listed[0] == {
        "id": log.promoted.pk,
        "created_at": "2025-03-10T12:00:00+00:00",
        "event": "member.role_changed",
        "label": "Role changed",
        "actor_email": "ada@acme.test",
        "subject_email": "bob@acme.test",
        "factor": None,
        "ip": IP,
        "user_agent": AGENT,
        "detail": {"role": "administrator"},
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"member": "bob@acme.test"}, ["promoted", "enabled"]),
        ({"event": "sign_in.succeeded"}, ["signed_in"]),
        ({"since": "2025-03-10"}, ["promoted"]),
        ({"until": "2025-03-09", "since": "2025-03-09"}, ["enabled"]),
        ({"member": "olga@globex.test"}, []),  # another account's member: nothing
    ],
)
def test_audit_events_are_filtered_like_the_page(
    administrator_client: Client, log: Log, query: dict[str, str], expected: list[str]
) -> None:
    listed = items(administrator_client.get(EVENTS, {**MARCH, **query}))

    assert [i["id"] for i in listed] == [getattr(log, name).pk for name in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"member": "bob"}, ("invalid", "member")),
        ({"event": "all"}, ("invalid_choice", "event")),
        ({"since": "yesterday"}, ("invalid", "since")),
        ({"since": "2025-03-10", "until": "2025-03-09"}, ("date_order", "until")),
        ({"limit": "0"}, ("min_value", "limit")),
        ({"limit": "1000"}, ("max_value", "limit")),
        ({"limit": "ten"}, ("invalid", "limit")),
        ({"cursor": "not-a-cursor"}, ("invalid", "cursor")),
        ({"cursor": "MjAyNXwx"}, ("invalid", "cursor")),  # base64 of "2025|1"
    ],
)
def test_bad_query_is_a_400_naming_the_code_and_param(
    administrator_client: Client, log: Log, query: dict[str, str], expected: tuple[str, str]
) -> None:
    response = administrator_client.get(EVENTS, query)

    assert response.status_code == 400
    assert errors(response) == [expected]


def test_bad_filters_on_the_csv_are_a_json_400(administrator_client: Client, log: Log) -> None:
    response = administrator_client.get(CSV, {"member": "bob"})

    assert response.status_code == 400
    assert errors(response) == [("invalid", "member")]


def test_audit_events_are_paged_with_a_cursor(
    administrator_client: Client, member: Membership
) -> None:
    written = [
        record(Event.SIGNED_OUT, subject=member.user, now=DAY + timedelta(minutes=m % 3))
        for m in range(7)  # several events share a time: the cursor still splits them exactly
    ]
    query: dict[str, str] = {**MARCH, "limit": "3"}
    pages = []
    while True:
        data = administrator_client.get(EVENTS, query).json()["data"]
        pages.append([i["id"] for i in data["items"]])
        if data["next_cursor"] is None:
            break
        query["cursor"] = data["next_cursor"]

    newest_first = sorted(written, key=lambda e: (e.created_at, e.pk), reverse=True)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == [e.pk for e in newest_first]


def test_audit_events_csv_downloads_the_filtered_events(
    administrator_client: Client, log: Log
) -> None:
    response = administrator_client.get(CSV, {**MARCH, "event": "two_factor.enabled"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["event"], r["subject_email"], r["factor"]) for r in rows] == [
        ("two_factor.enabled", "bob@acme.test", "sms")
    ]


@pytest.mark.parametrize("path", [EVENTS, CSV])
def test_members_get_403_on_the_accounts_audit_log(
    member_client: Client, log: Log, path: str
) -> None:
    response = member_client.get(path, {"member": "not even valid"})

    assert response.status_code == 403
    assert errors(response) == [("forbidden", None)]


@pytest.mark.parametrize("path", [EVENTS, CSV, OWN])
def test_anonymous_callers_get_401(db: None, path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 401
    assert errors(response) == [("not_authenticated", None)]


def test_me_security_events_lists_the_callers_own_events_only(
    member_client: Client, log: Log
) -> None:
    response = member_client.get(OWN)

    assert response.status_code == 200
    listed = response.json()["data"]
    ours = [i["id"] for i in listed if i["created_at"].startswith("2025-03")]
    assert ours == [log.promoted.pk, log.enabled.pk]
    assert all("bob@acme.test" in (i["actor_email"], i["subject_email"]) for i in listed)
