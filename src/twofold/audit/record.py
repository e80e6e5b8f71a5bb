"""Write one audit event: the one function every flow calls (the audit sink port).

Events name who acted and on whom, the account, the time, and where from (taken from the
current request, see :mod:`twofold.audit.context`). Callers pass facts, never secrets: no codes,
no passwords, no full phone numbers (``detail`` is checked for the obvious ones).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from twofold import clock
from twofold.audit import context
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Organization, membership_of

if TYPE_CHECKING:
    from twofold.users.models import User

logger = logging.getLogger("twofold.audit")

# Keys that would carry a secret or a full number; refusing them keeps mistakes out of the log.
FORBIDDEN_DETAIL_KEYS = frozenset({"code", "password", "token", "secret", "phone", "number"})


def organization_of(user: User | None) -> Organization | None:
    membership = membership_of(user) if user is not None else None
    return membership.organization if membership is not None else None


def _checked(detail: dict[str, Any] | None) -> dict[str, Any]:
    detail = dict(detail or {})
    forbidden = FORBIDDEN_DETAIL_KEYS & detail.keys()
    if forbidden:
        raise ValueError(f"Audit details must not carry {sorted(forbidden)}.")
    return detail


def record(
    event: Event,
    *,
    subject: User | None = None,
    actor: User | None = None,
    organization: Organization | None = None,
    factor: str = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append an event. ``actor`` defaults to ``subject`` (a member acting on themselves)."""
    detail = _checked(detail)
    actor = actor if actor is not None else subject
    if organization is None:
        organization = organization_of(subject) or organization_of(actor)
    origin = context.current()
    entry = AuditEvent.objects.create(
        created_at=now or clock.now(),
        organization=organization,
        event=event,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        subject=subject,
        subject_email=subject.email if subject is not None else "",
        factor=factor,
        ip=origin.ip,
        user_agent=origin.user_agent,
        detail=detail,
    )
    # The same line for log shippers (SIEM), without the user agent's noise.
    logger.info(
        json.dumps(
            {
                "event": str(event),
                "organization": organization.pk if organization is not None else None,
                "actor": entry.actor_email,
                "subject": entry.subject_email,
                "factor": factor,
                "ip": origin.ip,
                "detail": detail,
            },
            sort_keys=True,
        )
    )
    return entry


def record_surviving_rollback(
    event: Event,
    *,
    subject: User | None = None,
    actor: User | None = None,
    organization: Organization | None = None,
    factor: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a failure event that must outlive the caller's transaction rolling back.

    Inside a request it is written when the request ends (every transaction of the request has
    committed or rolled back by then), with the time of the failure; outside a request, at once.
    """
    write = partial(
        record,
        event,
        subject=subject,
        actor=actor,
        organization=organization,
        factor=factor,
        detail=_checked(detail),  # refused now, where the mistake is, not at the request's end
        now=clock.now(),
    )
    if not context.after_request(write):
        write()
