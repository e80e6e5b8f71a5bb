"""Setting up, using and removing an authenticator app (TOTP). Plain functions; no HTTP.

Setting up: a new secret (shown as a QR code and as a key to type), confirmed with a current
code. Until the confirmation, the secret lives only in the member's session, encrypted as at rest;
nothing is active. A member without 2FA then saves backup codes and activates, as with SMS; a
member who has another factor already has their one set of backup codes: the app is added at
once. The secret is stored in allauth.mfa's ``Authenticator``, encrypted (``crypto.py``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record, record_surviving_rollback
from twofold.errors import Conflict, FlowError
from twofold.factors import (
    activation,
    lockout,
    member_factors,
    methods,
    notifications,
    policy,
    removal,
)
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.totp import codes, crypto
from twofold.factors.totp.models import TotpLastStep
from twofold.users.models import User

SESSION_KEY = "twofold_totp_setup"
TOTP = Authenticator.Type.TOTP


@dataclass(frozen=True)
class Setup:
    """A set-up in progress: what the page shows to scan or type."""

    secret: str
    uri: str  # otpauth://totp/... (the QR code's content)
    qr_svg: str
    confirmed: bool
    used_step: int | None = None  # the step of the confirming code, spent when the app is created

    @property
    def secret_groups(self) -> list[str]:
        """``["ABCD", "EFGH", ...]``: easier to read and type into an app by hand."""
        return [self.secret[i : i + 4] for i in range(0, len(self.secret), 4)]

    @property
    def grouped_secret(self) -> str:
        """``ABCD EFGH ...``: easier to type into an app by hand."""
        return " ".join(self.secret_groups)

    @property
    def qr_data_uri(self) -> str:
        # A data: URI image: no inline script or style for the Content-Security-Policy.
        return "data:image/svg+xml;base64," + base64.b64encode(self.qr_svg.encode()).decode()


def authenticator(user: User) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=TOTP).first()


def start(user: User, session: SessionBase) -> Setup:
    """The set-up in progress, or a new one with a new secret."""
    if authenticator(user) is not None:
        raise Conflict(
            gettext(
                "An authenticator app is already set up. Remove it first to set up another one."
            ),
            code="totp_active",
        )
    policy.require_allowed(user, methods.TOTP)  # the account's method policy
    return pending(user, session) or _new_setup(user, session)


def pending(user: User, session: SessionBase) -> Setup | None:
    state = session.get(SESSION_KEY)
    if not state or state.get("user") != user.pk:
        return None
    secret = crypto.decrypt(state["secret"])
    return _setup(user, secret, confirmed=bool(state.get("confirmed")), used_step=state.get("step"))


def _new_setup(user: User, session: SessionBase) -> Setup:
    secret = codes.generate_totp_secret()  # 160 bits from secrets (RFC 4226 section 4, R6)
    # Encrypted in the session too: sessions are stored in the database.
    session[SESSION_KEY] = {
        "user": user.pk,
        "secret": crypto.encrypt(secret),
        "confirmed": False,
        "id": activation.new_setup_id(),  # marks its backup codes: one set per set-up
    }
    return _setup(user, secret, confirmed=False)


def _setup(user: User, secret: str, *, confirmed: bool, used_step: int | None = None) -> Setup:
    adapter = get_adapter()
    uri = adapter.build_totp_url(user, secret)
    svg = adapter.build_totp_svg(uri)
    return Setup(secret=secret, uri=uri, qr_svg=svg, confirmed=confirmed, used_step=used_step)


def confirm(user: User, session: SessionBase, code: str, *, now: datetime | None = None) -> bool:
    """The app shows the right code. True: the app is active now (added beside another factor);
    False: next, the backup codes."""
    now = now or clock.now()
    setup = _require_pending(user, session)
    step = codes.matching_step(setup.secret, code, now)
    if step is None:
        raise FlowError(
            gettext(
                "That code is not right. Check that the time on your phone is set automatically, "
                "and enter the code your app shows now."
            ),
            code="code_invalid",
            param="code",
        )
    # The code that sets the app up is spent: its step is the app's first used step.
    if member_factors.has_second_factor(user):
        with transaction.atomic():
            _create(user, setup.secret, now, used_step=step)
        _clear(session)
        notifications.send_factor_added(user, methods.LABELS[methods.TOTP])
        record(Event.FACTOR_ADDED, subject=user, factor="totp")
        return True
    session[SESSION_KEY] = {**session[SESSION_KEY], "confirmed": True, "step": step}
    return False


def show_backup_codes(
    user: User, session: SessionBase, *, now: datetime | None = None
) -> list[str]:
    """The backup codes of a confirmed set-up: the same set at every call until activation."""
    return activation.show_backup_codes(
        user,
        session,
        session_key=SESSION_KEY,
        require_pending=lambda: _require_confirmed(user, session),
        now=now,
    )


def activate(
    user: User, session: SessionBase, *, saved_backup_codes: bool, now: datetime | None = None
) -> Authenticator:
    """The last step of a first factor: only now is two-factor authentication on, all at once."""
    at = now or clock.now()
    return activation.activate(
        user,
        session,
        factor="totp",
        session_key=SESSION_KEY,
        saved_backup_codes=saved_backup_codes,
        require_pending=lambda: _require_confirmed(user, session),
        create=lambda setup: _create(user, setup.secret, at, used_step=setup.used_step),
    )


def cancel(user: User, session: SessionBase) -> None:
    """Abandon a set-up: everything is as before it started."""
    if pending(user, session) is not None:
        backup_codes.BackupCode.objects.filter(user=user, active=False).delete()
    _clear(session)


def remove(user: User) -> None:
    """Remove the app; as the last factor, turning 2FA off (refused when the account
    requires it)."""
    removal.remove_factor(user, methods.TOTP)


def verify(user: User, code: str, *, now: datetime | None = None) -> None:
    """A sign-in or re-authentication code from the app: accepted once, or a FlowError.

    Failures count in the consecutive second-factor failures of every factor (``lockout``).
    """
    now = now or clock.now()
    had_failures = lockout.check_not_locked(user.pk, now)
    found = authenticator(user)
    if found is None:
        raise Conflict(gettext("No authenticator app is set up for this account."), code="totp_off")
    secret = get_adapter().decrypt(found.data["secret"])
    step = codes.matching_step(secret, code, now)
    # A code accepted once is refused again (RFC 6238 5.2), on every worker, whatever the cache.
    if step is None or not codes.mark_used(found.pk, step):
        detail = {"reason": "replayed"} if step is not None else None
        record_surviving_rollback(
            Event.SECOND_FACTOR_FAILED, subject=user, factor="totp", detail=detail
        )
        if lockout.record_failure(user.pk, now):
            notifications.send_second_factor_locked(user)
        raise FlowError(
            # A replayed code is still on the app's screen: the next one is what works.
            gettext(
                "This code was already used. Wait for the next code in your app, then enter it."
            )
            if step is not None
            else gettext("That code is not right. Enter the code your app shows now."),
            code="code_invalid",
            param="code",
        )
    lockout.record_success(user.pk, had_failures=had_failures)
    Authenticator.objects.filter(pk=found.pk).update(last_used_at=now)


def _create(user: User, secret: str, now: datetime, *, used_step: int | None) -> Authenticator:
    """The app's authenticator, with the step of the code that confirmed it as used."""
    try:
        with transaction.atomic():
            created = Authenticator.objects.create(
                user=user, type=TOTP, data={"secret": get_adapter().encrypt(secret)}, created_at=now
            )
            if used_step is not None:  # the confirming code must not sign in after (RFC 6238 5.2)
                TotpLastStep.objects.create(authenticator=created, step=used_step)
            activation.void_sms_enrollment(user)  # a half-done number must not replace codes
            return created
    except IntegrityError:  # one app per member (allauth's unique constraint); a double submit
        raise Conflict(
            gettext("An authenticator app is already set up."), code="totp_active"
        ) from None


def _clear(session: SessionBase) -> None:
    session.pop(SESSION_KEY, None)


def _require_pending(user: User, session: SessionBase) -> Setup:
    setup = pending(user, session)
    if setup is None:
        raise FlowError(
            gettext("Start again: scan the new QR code with your app."), code="enrollment_missing"
        )
    return setup


def _require_confirmed(user: User, session: SessionBase) -> Setup:
    setup = _require_pending(user, session)
    if not setup.confirmed:
        raise FlowError(gettext("Enter a code from your app first."), code="totp_not_confirmed")
    return setup
