"""A small audit log written with ``record()`` directly, at known times, for the log's readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import RequestFactory

from twofold.audit import context
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.audit.record import record
from twofold.organizations.models import Membership

# Far from the time the fixtures' own flows write their events, so date filters separate them.
DAY = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
IP = "192.0.2.15"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125 Safari"


@dataclass
class Log:
    """acme's events (``signed_in`` 2 days before DAY, ``enabled`` the day before, ``promoted``
    on DAY) and one of globex on DAY."""

    signed_in: AuditEvent
    enabled: AuditEvent
    promoted: AuditEvent
    globex: AuditEvent

    @property
    def acme(self) -> list[AuditEvent]:
        return [self.promoted, self.enabled, self.signed_in]  # newest first


def write_log(administrator: Membership, member: Membership, other: Membership) -> Log:
    request = RequestFactory().get("/", REMOTE_ADDR=IP, HTTP_USER_AGENT=AGENT)
    with context.from_request(request):
        return Log(
            signed_in=record(
                Event.SIGN_IN_SUCCEEDED,
                subject=administrator.user,
                factor="password",
                detail={"aal": "aal1"},
                now=DAY - timedelta(days=2),
            ),
            enabled=record(
                Event.TWO_FACTOR_ENABLED,
                subject=member.user,
                factor="sms",
                detail={"masked_phone": "+41 •• ••• •• 67"},
                now=DAY - timedelta(days=1),
            ),
            promoted=record(
                Event.ROLE_CHANGED,
                subject=member.user,
                actor=administrator.user,
                detail={"role": "administrator"},
                now=DAY,
            ),
            globex=record(Event.SIGN_IN_FAILED, subject=other.user, factor="password", now=DAY),
        )


@pytest.fixture
def log(administrator: Membership, member: Membership, other_administrator: Membership) -> Log:
    return write_log(administrator, member, other_administrator)


def ids(events: Any) -> list[int]:
    return [e.pk for e in events]
