"""The set-up table: each method a member can set up as their first factor, and the steps all of
them share once the factor itself is confirmed: show the backup codes, activate, or abandon.

Forced enrollment at sign-in (``signin/forced_enrollment.py``) asks this table and names no method
(STYLE.md rule 2). A set-up lives where its factor keeps it: a pending SMS enrollment in the
database, bound to the login that started it; an authenticator app's secret in the browser's
session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django.contrib.sessions.backends.base import SessionBase

from twofold.factors.methods import SMS, TOTP
from twofold.factors.sms import flows as sms_flows
from twofold.factors.totp import flows as totp_flows
from twofold.users.models import User


class Setup(Protocol):
    # What allauth records of a login that set the factor up (it proved it with a code).
    record_type: str
    # Where to start again when no set-up of this login is in progress.
    restart: str

    def in_progress(self, user: User, session: SessionBase, binding: str | None) -> bool:
        """A set-up of this login (``binding``) or this browser (``session``) is under way."""

    def show_backup_codes(self, user: User, session: SessionBase) -> list[str]:
        """The backup codes of a confirmed set-up (the same set until it is activated)."""

    def activate(self, user: User, session: SessionBase, *, saved_backup_codes: bool) -> object:
        """The last step: only now is two-factor authentication on, all at once."""

    def cancel(self, user: User, session: SessionBase) -> None:
        """Abandon the set-up: everything is as before it started."""


class SmsSetup:
    record_type = "sms"
    restart = "Start again by entering your mobile number."

    def in_progress(self, user: User, session: SessionBase, binding: str | None) -> bool:
        pending = sms_flows.pending(user)
        return pending is not None and binding is not None and pending.binding == binding

    def show_backup_codes(self, user: User, session: SessionBase) -> list[str]:
        return sms_flows.show_backup_codes(user)

    def activate(self, user: User, session: SessionBase, *, saved_backup_codes: bool) -> object:
        return sms_flows.activate(user, saved_backup_codes=saved_backup_codes)

    def cancel(self, user: User, session: SessionBase) -> None:
        sms_flows.cancel(user)


class TotpSetup:
    record_type = "totp"
    restart = "Start again: scan the QR code with your app."

    def in_progress(self, user: User, session: SessionBase, binding: str | None) -> bool:
        return totp_flows.pending(user, session) is not None

    def show_backup_codes(
        self, user: User, session: SessionBase, *, now: datetime | None = None
    ) -> list[str]:
        return totp_flows.show_backup_codes(user, session, now=now)

    def activate(self, user: User, session: SessionBase, *, saved_backup_codes: bool) -> object:
        return totp_flows.activate(user, session, saved_backup_codes=saved_backup_codes)

    def cancel(self, user: User, session: SessionBase) -> None:
        totp_flows.cancel(user, session)


# The methods a member can set up at sign-in, strongest first. Security keys are set up only
# from the settings page, once signed in.
SETUPS: dict[str, Setup] = {TOTP: TotpSetup(), SMS: SmsSetup()}
