"""The audit log as CSV, one row at a time (the page's export and the API's share it).

Cells come from people (emails, user agents, names in details), and spreadsheets run a cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula: such cells are prefixed with a single
quote (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain

from django.http import StreamingHttpResponse

from twofold.audit.models import AuditEvent

COLUMNS = (
    "time",
    "event",
    "actor_email",
    "subject_email",
    "factor",
    "ip",
    "user_agent",
    "detail",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escaped(cell: str) -> str:
    """The cell as text a spreadsheet shows and never evaluates."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def row(event: AuditEvent) -> list[str]:
    cells = [
        event.created_at.astimezone(UTC).isoformat(),
        event.event,
        event.actor_email,
        event.subject_email,
        event.factor,
        event.ip or "",
        event.user_agent,
        json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
    ]
    return [escaped(cell) for cell in cells]


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The header, then one line per event; nothing is held but the current line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for cells in chain([list(COLUMNS)], (row(event) for event in events)):
        writer.writerow(cells)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_response(events: Iterable[AuditEvent], *, now: datetime) -> StreamingHttpResponse:
    """A download streamed as it is read: a year of events never sits in memory at once."""
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    name = f"audit-log-{now.astimezone(UTC):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"  # who did what, from where: not for shared caches
    return response
