"""Forced 2FA enrollment at sign-in, shared by the pages and the JSON API.

An account that requires two-factor authentication lets a member without it in only once they
have set it up: number → code → backup codes → activation (DESIGN.md; ASVS 6.4.3: whatever led to
the sign-in, a password reset included, ends here). During the account's grace period the member
may choose "Later" instead, and signs in at aal1.

The member may set up an authenticator app instead (QR code → code → backup codes → activation,
``factors/totp/flows.py``; ``state["method"]`` says which): its set-up lives in this browser's
session, so it too cannot be finished elsewhere.

The steps are the settings page's own flows (``factors/sms/flows.py``). This module binds them to
the pending login: it continues only the enrollment this login started (its binding is kept in
the stage's state, with the pending login in the server-side session), so an enrollment begun
in another browser cannot be finished here (ASVS 6.6.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from allauth.account.internal.flows.login import record_authentication
from allauth.core.internal.httpkit import get_client_ip
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, FlowError
from twofold.factors import policy
from twofold.factors.member_factors import has_second_factor
from twofold.factors.methods import SMS, TOTP
from twofold.factors.policy import allowed_methods_for, rule_for
from twofold.factors.setups import SETUPS, Setup
from twofold.factors.sms import flows
from twofold.factors.sms.codes import Sender, seconds_until_resend
from twofold.factors.sms.models import PendingSmsEnrollment
from twofold.factors.totp import flows as totp_flows
from twofold.signin.state import EnrollmentState
from twofold.users.models import User

STAGE_KEY = "twofold_two_factor_enrollment"


def applies(user: User) -> bool:
    """The account requires 2FA and the member has none (a member with 2FA is challenged), or
    the member's factors are all of methods the account no longer allows: having signed in with
    one (or a backup code) in the step before, they add an allowed one."""
    if rule_for(user).required and not has_second_factor(user):
        return True
    return policy.needs_allowed_factor(user)


def completed(user: User) -> bool:
    """Nothing is left to set up: a member replacing a factor no longer allowed has an allowed
    one as soon as its code is confirmed (their backup codes stay as they are)."""
    return has_second_factor(user) and not applies(user)


# The methods this stage can set up, strongest first (the method policy keeps one of them allowed
# while 2FA is mandatory: ``policy.ENROLLABLE`` names the same).
ENROLLABLE = tuple(SETUPS)


def offered(user: User) -> tuple[str, ...]:
    """The methods this step offers: those it can set up that the account allows."""
    allowed = allowed_methods_for(user)
    return tuple(method for method in ENROLLABLE if method in allowed)


# Set by the stage when an SSO sign-in's policy asks for our 2FA: no postponing then.
SSO_REQUIRES_OURS: Final = "sso_requires_our_two_factor"


def days_left(user: User, state: EnrollmentState | None = None, now: datetime | None = None) -> int:
    """How many more days the member may postpone; 0 when they must set it up now (always
    during an SSO sign-in whose policy asks for our 2FA)."""
    if state is not None and state.get(SSO_REQUIRES_OURS):
        return 0
    return rule_for(user).days_left(now or clock.now())


def current(user: User, state: EnrollmentState) -> PendingSmsEnrollment | None:
    """The enrollment this login started, if it is still in progress."""
    enrollment = flows.pending(user)
    if enrollment is None or enrollment.binding != state.get("binding"):
        return None
    return enrollment


def resend_in(user: User, state: EnrollmentState) -> int:
    enrollment = current(user, state)
    if enrollment is None:
        return 0
    return seconds_until_resend(user, enrollment.purpose, clock.now(), phone=enrollment.phone)


def code_waiting(user: User, state: EnrollmentState) -> bool:
    """A code of this login's number enrollment was texted and can still be entered."""
    enrollment = current(user, state)
    return enrollment is not None and flows.code_waiting(enrollment)


def start(request: HttpRequest, user: User, state: EnrollmentState, raw_phone: str) -> None:
    """Text a code to the number; a new number starts afresh (the earlier code stops working)."""
    enrollment = flows.start(user, raw_phone, sender=_sender(request))
    state["binding"] = enrollment.binding
    state["method"] = SMS


def start_totp(request: HttpRequest, user: User, state: EnrollmentState) -> totp_flows.Setup:
    """The authenticator app instead: the QR code and key of this browser's set-up."""
    setup = totp_flows.start(user, request.session)
    _cancel_in_progress(user, state, request.session, keep=TOTP)  # the number is not used now
    state["method"] = TOTP
    return setup


def totp_setup(request: HttpRequest, user: User, state: EnrollmentState) -> totp_flows.Setup | None:
    """The app set-up of this login, if the member chose the app."""
    if state.get("method") != TOTP:
        return None
    return totp_flows.pending(user, request.session)


def confirm_totp(request: HttpRequest, user: User, state: EnrollmentState, code: str) -> None:
    if totp_setup(request, user, state) is None:
        raise FlowError(
            gettext("Start again: scan the QR code with your app."), code="enrollment_missing"
        )
    totp_flows.confirm(user, request.session, code)


def resend(request: HttpRequest, user: User, state: EnrollmentState) -> None:
    _require_current(user, state)
    flows.resend(user, sender=_sender(request))


def confirm_code(user: User, state: EnrollmentState, code: str) -> None:
    _require_current(user, state)
    flows.confirm_code(user, code)


def show_backup_codes(user: User, state: EnrollmentState, session: SessionBase) -> list[str]:
    """The backup codes of this login's confirmed set-up, whichever the method."""
    return _in_progress(user, state, session).show_backup_codes(user, session)


def activate(request: HttpRequest, user: User, state: EnrollmentState, *, saved: bool) -> None:
    """2FA is on; the member proved the factor with its code: the login is aal2."""
    setup = _in_progress(user, state, request.session)
    setup.activate(user, request.session, saved_backup_codes=saved)
    record_authentication(request, user, "mfa", type=setup.record_type)


def postpone(
    user: User,
    state: EnrollmentState,
    now: datetime | None = None,
    *,
    session: SessionBase,
) -> int:
    """ "Later": allowed while the grace period lasts, or once 2FA is no longer required.

    Returns the days left to set it up (0 when it is no longer required).
    """
    rule = rule_for(user)
    left = rule.days_left(now or clock.now())
    replacing = policy.needs_allowed_factor(user)  # "Later" only while a grace runs
    if ((rule.required or replacing) and left <= 0) or state.get(SSO_REQUIRES_OURS):
        raise Conflict(
            gettext("Your account requires two-factor authentication now: set it up to sign in."),
            code="postpone_not_allowed",
        )
    _cancel_in_progress(user, state, session)  # nothing half-done stays behind
    if rule.required:
        record(Event.TWO_FACTOR_POSTPONED, subject=user, detail={"days_left": left})
    return left


def _in_progress(user: User, state: EnrollmentState, session: SessionBase) -> Setup:
    """The set-up this login started, if it is still in progress (``enrollment_missing``)."""
    setup = SETUPS.get(state.get("method") or SMS)  # a login from before the app: by text
    if setup is None or not setup.in_progress(user, session, state.get("binding")):
        restart = setup.restart if setup else SETUPS[SMS].restart
        raise FlowError(restart, code="enrollment_missing")
    return setup


def _cancel_in_progress(
    user: User, state: EnrollmentState, session: SessionBase, *, keep: str | None = None
) -> None:
    for method, setup in SETUPS.items():
        if method != keep and setup.in_progress(user, session, state.get("binding")):
            setup.cancel(user, session)


def _require_current(user: User, state: EnrollmentState) -> PendingSmsEnrollment:
    enrollment = current(user, state)
    if enrollment is None:
        raise FlowError(
            gettext("Start again by entering your mobile number."), code="enrollment_missing"
        )
    return enrollment


def _sender(request: HttpRequest) -> Sender:
    return Sender(ip=get_client_ip(request))
