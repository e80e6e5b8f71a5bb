"""The administrators' audit log page (/account/audit/) and its CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from tests.audit.conftest import AGENT, DAY, IP, Log, ids, write_log
from twofold.audit import context
from twofold.audit.events import Event
from twofold.audit.export import COLUMNS, escaped
from twofold.audit.flows import PAGE_SIZE
from twofold.audit.record import record
from twofold.organizations.models import Membership

PAGE = "/account/audit/"
EXPORT = "/account/audit/export.csv"
MARCH = {"since": "2025-03-01", "until": "2025-03-31"}


@pytest.fixture
def log(administrator: Membership, member: Membership, other_administrator: Membership) -> Log:
    return write_log(administrator, member, other_administrator)


def shown(response: HttpResponse) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return ids(response.context["page"])


def downloaded(response: HttpResponse) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(text)))


def test_audit_log_shows_the_own_accounts_events_newest_first(
    administrator_client: Client, log: Log
) -> None:
    response = administrator_client.get(PAGE, MARCH)

    assert shown(response) == ids(log.acme)
    page = response.content.decode()
    assert "Role changed" in page
    assert "Two-factor authentication enabled" in page
    assert log.globex.subject_email not in page
    assert f'title="{AGENT}"' in page  # the user agent in full on hover, shortened in the cell
    assert IP in page


def test_audit_log_never_shows_another_accounts_events(
    administrator_client: Client, log: Log
) -> None:
    everything = shown(administrator_client.get(PAGE))
    theirs = shown(administrator_client.get(PAGE, {"member": log.globex.subject_email}))

    assert log.globex.pk not in everything
    assert set(ids(log.acme)) <= set(everything)
    assert theirs == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"member": "bob@acme.test"}, ["promoted", "enabled"]),
        ({"member": "ADA@acme.test"}, ["promoted", "signed_in"]),  # as actor, any case
        ({"event": Event.TWO_FACTOR_ENABLED.value}, ["enabled"]),
        ({"since": "2025-03-09", "until": "2025-03-10"}, ["promoted", "enabled"]),
        ({"since": "2025-03-08", "until": "2025-03-08"}, ["signed_in"]),  # one whole UTC day
        ({"member": "bob@acme.test", "event": Event.ROLE_CHANGED.value}, ["promoted"]),
    ],
)
def test_audit_log_filters_by_member_event_and_dates(
    administrator_client: Client, log: Log, query: dict[str, str], expected: list[str]
) -> None:
    within_march = {**MARCH, **query}

    assert shown(administrator_client.get(PAGE, within_march)) == [
        getattr(log, name).pk for name in expected
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"member": "not-an-email"}, "Enter a valid email address."),
        ({"event": "everything"}, "Select a valid choice."),
        ({"since": "10/03/2025"}, "Enter a date as YYYY-MM-DD."),
        ({"until": "2025-02-30"}, "Enter a date as YYYY-MM-DD."),
        ({"since": "2025-03-10", "until": "2025-03-01"}, "The end date must be on or after"),
    ],
)
@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_bad_filters_answer_400_with_a_clear_message(
    administrator_client: Client, log: Log, url: str, query: dict[str, str], message: str
) -> None:
    response = administrator_client.get(url, query)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Correct the filters above" in page
    assert response.context["page"] is None
    assert 'class="audit-events"' not in page  # no table of events under refused filters


def test_audit_log_shows_50_events_a_page(administrator_client: Client, member: Membership) -> None:
    for minute in range(PAGE_SIZE + 1):
        record(Event.SIGNED_OUT, subject=member.user, now=DAY + timedelta(minutes=minute))
    query = {**MARCH, "event": Event.SIGNED_OUT.value}

    first = administrator_client.get(PAGE, query)
    second = administrator_client.get(PAGE, {**query, "page": "2"})

    assert len(shown(first)) == PAGE_SIZE
    assert len(shown(second)) == 1
    assert "Page 1 of 2" in first.content.decode()
    assert shown(administrator_client.get(PAGE, {**query, "page": "many"})) == shown(first)


def test_csv_export_has_the_filtered_events_with_every_column(
    administrator_client: Client, log: Log
) -> None:
    rows = downloaded(administrator_client.get(EXPORT, {**MARCH, "member": "bob@acme.test"}))

    assert list(rows[0]) == list(COLUMNS)
    assert [r["event"] for r in rows] == [Event.ROLE_CHANGED, Event.TWO_FACTOR_ENABLED]
    promoted = rows[0]
    assert promoted["time"] == "2025-03-10T12:00:00+00:00"
    assert (promoted["actor_email"], promoted["subject_email"]) == (
        "ada@acme.test",
        "bob@acme.test",
    )
    assert (promoted["ip"], promoted["user_agent"]) == (IP, AGENT)
    assert json.loads(promoted["detail"]) == {"role": "administrator"}
    assert rows[1]["factor"] == "sms"


def test_csv_export_never_contains_another_accounts_events(
    administrator_client: Client, log: Log
) -> None:
    rows = downloaded(administrator_client.get(EXPORT))

    assert log.globex.subject_email not in {r["subject_email"] for r in rows}
    assert {r["time"] for r in rows} >= {"2025-03-10T12:00:00+00:00"}


def test_csv_export_defuses_cells_a_spreadsheet_would_run(
    administrator_client: Client, member: Membership
) -> None:
    attack = '=HYPERLINK("https://evil.test","update")'
    request = RequestFactory().get("/", HTTP_USER_AGENT=attack)
    with context.from_request(request):
        record(Event.SIGNED_OUT, subject=member.user, factor="@sum(1)", now=DAY)

    [row] = downloaded(administrator_client.get(EXPORT, {**MARCH, "event": "sign_out"}))

    assert row["user_agent"] == "'" + attack
    assert row["factor"] == "'@sum(1)"
    assert row["subject_email"] == "bob@acme.test"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+41 79", "'+41 79"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("bob@acme.test", "bob@acme.test"),
        ("Mozilla/5.0 (=)", "Mozilla/5.0 (=)"),
        ("", ""),
    ],
)
def test_formula_cells_are_prefixed_with_a_quote(cell: str, expected: str) -> None:
    assert escaped(cell) == expected


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_only_administrators_see_the_audit_log(member_client: Client, log: Log, url: str) -> None:
    response = member_client.get(url)

    assert response.status_code == 403
    assert not response.streaming
    page = response.content.decode()
    assert "Only administrators can open this page" in page
    assert "Role changed" not in page
    assert log.signed_in.subject_email not in page


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_audit_log_needs_a_signed_in_user(db: None, url: str) -> None:
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_administrators_find_the_audit_log_in_their_menu_and_account_page(
    administrator_client: Client, member_client: Client
) -> None:
    assert f'href="{PAGE}"' in administrator_client.get("/account/").content.decode()
    assert f'href="{PAGE}"' in administrator_client.get("/settings/security/").content.decode()
    assert f'href="{PAGE}"' not in member_client.get("/settings/security/").content.decode()
