"""Reading the audit log: administrators read their account's, members their own. No HTTP.

Every query starts from ``AuditEvent.objects.of(organization)`` of the reader's own account, so
no filter (a member's email, say) can reach another account's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q

from twofold.audit.models import AuditEvent, AuditEventQuerySet
from twofold.organizations.models import Membership, membership_of, require_administrator
from twofold.users.models import User

RECENT_OWN_EVENTS = 20
PAGE_SIZE = 50

# Where a page of the API's listing ends: the time and id of its last event.
Cursor = tuple[datetime, int]


@dataclass(frozen=True)
class Filters:
    """What an administrator narrows the log to; ``None`` leaves a filter out."""

    member: str | None = None  # an email: events this person did or underwent
    event: str | None = None  # an Event value
    since: date | None = None  # first UTC day included
    until: date | None = None  # last UTC day included


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    next_cursor: Cursor | None


def account_events(actor: Membership, filters: Filters | None = None) -> AuditEventQuerySet:
    """The actor's account's events matching ``filters``, newest first; administrators only."""
    require_administrator(actor)
    return filtered(AuditEvent.objects.of(actor.organization), filters or Filters())


def filtered(events: AuditEventQuerySet, filters: Filters) -> AuditEventQuerySet:
    if filters.member:
        # By the email kept on the event: a departed member's events stay findable.
        events = events.filter(
            Q(actor_email__iexact=filters.member) | Q(subject_email__iexact=filters.member)
        )
    if filters.event:
        events = events.filter(event=filters.event)
    if filters.since:
        events = events.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        events = events.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    return events.order_by("-created_at", "-id")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def page_of(events: AuditEventQuerySet, *, after: Cursor | None, limit: int = PAGE_SIZE) -> Page:
    """The ``limit`` events after ``after`` in newest-first order.

    A cursor, not a page number: events written meanwhile do not shift the pages still to come.
    """
    if after is not None:
        created_at, pk = after
        events = events.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    found = list(events[: limit + 1])
    if len(found) <= limit:
        return Page(found, None)
    last = found[limit - 1]
    return Page(found[:limit], (last.created_at, last.pk))


def own_recent_events(user: User, limit: int = RECENT_OWN_EVENTS) -> list[AuditEvent]:
    """What the user did and what was done to them, in their own account, newest first."""
    membership = membership_of(user)
    if membership is None:
        return []
    events = AuditEvent.objects.of(membership.organization).about(user)
    return list(events.order_by("-created_at", "-id")[:limit])
