"""The last steps of a first factor set up in the session (authenticator app, security key).

A member without two-factor authentication who has confirmed an app or registered a key saves
one set of backup codes, then activates: the pending codes and the factor become active in one
transaction, so two-factor authentication is on all at once or not at all. Plain functions; no
HTTP. Each factor passes how to find its confirmed set-up and how to create its authenticator.

These last steps apply only while the member has no factor: once another one is on (set up
meanwhile in another browser), activating would replace the backup codes saved for it, so the
set-up is dropped and refused (``enrollment_missing``). Whenever a factor is created, a
first-factor SMS enrollment left half-done is dropped too (:func:`void_sms_enrollment`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import FlowError
from twofold.factors import member_factors, notifications
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.sms.models import PendingSmsEnrollment
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
ANOTHER_FACTOR_ON = gettext_lazy(
    "Two-factor authentication was turned on meanwhile, with its own backup codes. "
    "Start again to add this method beside it."
)


def void_sms_enrollment(user: User) -> None:
    """A factor is on: a first-factor SMS enrollment left half-done (a number confirmed, its
    backup codes not saved) no longer applies. Dropped, so that it can never later turn SMS on
    and replace the backup codes the member saved for this factor."""
    enrollments = PendingSmsEnrollment.objects.filter(
        user=user, purpose=PendingSmsEnrollment.Purpose.ENROLL
    )
    for enrollment in enrollments:
        backup_codes.drop_pending(user, enrollment.backup_codes_label)
    enrollments.delete()


def require_first_factor(user: User, session: SessionBase, session_key: str) -> None:
    """Refuse (``enrollment_missing``) a first factor's last steps once the member has a factor,
    and drop the set-up kept under ``session_key``: its backup codes would replace theirs."""
    if member_factors.has_second_factor(user):
        session.pop(session_key, None)
        raise FlowError(ANOTHER_FACTOR_ON, code="enrollment_missing")


def show_backup_codes(
    user: User,
    session: SessionBase,
    *,
    session_key: str,
    require_pending: Callable[[], object],
    now: datetime | None = None,
) -> list[str]:
    """The backup codes of a set-up ``require_pending`` accepts: made at the first call, the
    same set at every later one until activation."""
    require_first_factor(user, session, session_key)
    require_pending()
    return backup_codes.codes_of_enrollment(user, _label(session, session_key), now=now)


def new_setup_id() -> str:
    """An id for a set-up kept in the session, drawn when it begins: it marks the set-up's
    backup codes, so a new set-up (a new key, a new secret) gets new ones."""
    return secrets.token_urlsafe(16)


def _label(session: SessionBase, session_key: str) -> str:
    """What marks the backup codes of the set-up kept under ``session_key``."""
    state = session[session_key]
    if "id" not in state:  # a set-up begun before ids were drawn
        session[session_key] = state = {**state, "id": new_setup_id()}
    return f"{session_key}:{state['id']}"


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
            gettext("Confirm that you have saved your backup codes."),
            code="backup_codes_not_saved",
            param="saved_backup_codes",
        )
    require_first_factor(user, session, session_key)
    pending = require_pending()
    with transaction.atomic():
        backup_codes.activate_pending(user, _label(session, session_key))
        created = create(pending)
    session.pop(session_key, None)
    notifications.send_two_factor_enabled(user, None)
    record(Event.TWO_FACTOR_ENABLED, subject=user, factor=factor)
    return created
