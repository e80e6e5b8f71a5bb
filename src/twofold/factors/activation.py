"""The last steps of a first factor set up in the session (authenticator app, security key).

A member without two-factor authentication who has confirmed an app or registered a key saves
one set of backup codes, then activates: the pending codes and the factor become active in one
transaction, so two-factor authentication is on all at once or not at all. Plain functions; no
HTTP. Each factor passes how to find its confirmed set-up and how to create its authenticator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError
from twofold.factors import notifications
from twofold.factors.backup_codes import flows as backup_codes
from twofold.users.models import User


class SessionSetup(Protocol):
    """What the flows of a factor set up in the session (``factors/totp/flows.py``,
    ``factors/webauthn/flows.py``) offer for its last steps; pages and API take either."""

    def show_backup_codes(
        self, user: User, session: SessionBase, *, now: datetime | None = None
    ) -> list[str]: ...

    def activate(
        self,
        user: User,
        session: SessionBase,
        *,
        saved_backup_codes: bool,
        now: datetime | None = None,
    ) -> object: ...

    def cancel(self, user: User, session: SessionBase) -> None: ...


Pending = TypeVar("Pending")
Created = TypeVar("Created")


def show_backup_codes(
    user: User, require_pending: Callable[[], object], *, now: datetime | None = None
) -> list[str]:
    """The backup codes of a set-up ``require_pending`` accepts; each call makes a new set
    (shown once)."""
    require_pending()
    return backup_codes.create_pending(user, now=now)


def activate(
    user: User,
    session: SessionBase,
    *,
    factor: str,
    session_key: str,
    saved_backup_codes: bool,
    require_pending: Callable[[], Pending],
    create: Callable[[Pending], Created],
) -> Created:
    """The last step of a first factor: only now is two-factor authentication on, all at once.

    ``require_pending`` returns the set-up (or raises a FlowError), ``create`` makes the factor's
    authenticator from it; ``session_key`` holds the set-up and is cleared afterwards."""
    if not saved_backup_codes:
        raise FlowError(
            "Confirm that you have saved your backup codes.",
            code="backup_codes_not_saved",
            param="saved_backup_codes",
        )
    pending = require_pending()
    with transaction.atomic():
        backup_codes.activate_pending(user)
        created = create(pending)
    session.pop(session_key, None)
    notifications.send_two_factor_enabled(user, None)
    record(Event.TWO_FACTOR_ENABLED, subject=user, factor=factor)
    return created
