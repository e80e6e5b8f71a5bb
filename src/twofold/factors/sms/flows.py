"""Enrolling, changing and removing the SMS factor. Plain functions; no HTTP.

Nothing is active until the member confirmed the code AND saved the backup codes: until then the
work lives in a ``PendingSmsEnrollment`` and inactive backup codes, so abandoning anywhere, or a
failure midway (SMS provider down, process restart), leaves the member exactly as before.
Starting again begins afresh. An enrollment lasts :data:`ENROLLMENT_LIFETIME` from its start,
and a first-factor enrollment is dropped when another factor is activated
(``activation.void_sms_enrollment``): a number confirmed and left half-done must not, much
later, turn SMS on and replace the backup codes the member saved for that other factor.

Every step after the first that binds the number or shows backup codes needs the freshness of
the first (``binding.require_fresh_to_bind``): the pages and endpoints check it before calling.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, FlowError
from twofold.factors import activation, member_factors, notifications, policy, removal
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.methods import LABELS, SMS
from twofold.factors.sms import codes
from twofold.factors.sms.codes import UNKNOWN_SENDER, Sender
from twofold.factors.sms.models import PendingSmsEnrollment, SmsFactor
from twofold.organizations.models import membership_of
from twofold.sms.numbers import mask, parse_mobile
from twofold.users.models import User

Purpose = PendingSmsEnrollment.Purpose
# As long as a pending login (ACCOUNT_LOGIN_TIMEOUT): time to receive the code and save the
# backup codes, not for a half-done enrollment to wait for a session left idle.
ENROLLMENT_LIFETIME = timedelta(minutes=15)


def default_country(user: User) -> str:
    membership = membership_of(user)
    return membership.organization.default_country if membership else "CH"


def pending(user: User, *, now: datetime | None = None) -> PendingSmsEnrollment | None:
    """The enrollment or number change in progress; None once it is :data:`ENROLLMENT_LIFETIME`
    old, and then it is dropped (start again)."""
    enrollment = PendingSmsEnrollment.objects.filter(user=user).first()
    if enrollment is None or (now or clock.now()) < enrollment.created_at + ENROLLMENT_LIFETIME:
        return enrollment
    # Expired: nothing of it can be continued, whatever the session's freshness.
    with transaction.atomic():
        PendingSmsEnrollment.objects.filter(pk=enrollment.pk).delete()
        backup_codes.drop_pending(user, enrollment.backup_codes_label)
    return None


def start(
    user: User,
    raw_phone: str,
    *,
    sender: Sender = UNKNOWN_SENDER,
    now: datetime | None = None,
) -> PendingSmsEnrollment:
    """Check the number and text it a code. Enrolls, or changes the number of an active factor."""
    now = now or clock.now()
    phone = parse_mobile(raw_phone, default_country(user))
    factor = SmsFactor.objects.filter(user=user).first()
    if factor is None:
        policy.require_allowed(user, SMS)  # the account's method policy
    if factor is not None and factor.phone == phone:
        raise FlowError(
            gettext("This is already your number."), code="phone_unchanged", param="phone"
        )
    purpose = Purpose.CHANGE_NUMBER if factor else Purpose.ENROLL
    binding = codes.new_binding()
    # The code is sent before anything is stored: a failed send leaves no trace to clean up.
    codes.issue_code(user, phone, purpose=purpose, binding=binding, sender=sender, now=now)
    with transaction.atomic():
        PendingSmsEnrollment.objects.filter(user=user).delete()
        backup_codes.BackupCode.objects.filter(user=user, active=False).delete()
        return PendingSmsEnrollment.objects.create(
            user=user, purpose=purpose, phone=phone, binding=binding, created_at=now
        )


def resend(user: User, *, sender: Sender = UNKNOWN_SENDER, now: datetime | None = None) -> None:
    enrollment = _require_pending(user)
    codes.issue_code(
        user,
        enrollment.phone,
        purpose=enrollment.purpose,
        binding=enrollment.binding,
        sender=sender,
        now=now,
    )


def code_waiting(enrollment: PendingSmsEnrollment, *, now: datetime | None = None) -> bool:
    """A code of this enrollment was texted and can still be entered."""
    return codes.has_open_code(
        enrollment.user, enrollment.purpose, enrollment.binding, now or clock.now()
    )


def confirm_code(user: User, code: str, *, now: datetime | None = None) -> PendingSmsEnrollment:
    """The member proved they receive texts at the number. A change of number completes here."""
    now = now or clock.now()
    enrollment = _require_pending(user)
    codes.verify_code(user, code, purpose=enrollment.purpose, binding=enrollment.binding, now=now)
    if enrollment.purpose == Purpose.CHANGE_NUMBER:
        with transaction.atomic():
            SmsFactor.objects.filter(user=user).update(phone=enrollment.phone)
            enrollment.delete()
        notifications.send_phone_changed(user, mask(enrollment.phone))
        record(Event.PHONE_CHANGED, subject=user, factor="sms", detail=_masked(enrollment.phone))
        return enrollment
    if member_factors.has_second_factor(user):
        # Another factor is on, with the member's one set of backup codes: SMS is added now.
        _add_factor(user, enrollment, now)
        return enrollment
    enrollment.verified_at = now
    enrollment.save(update_fields=["verified_at"])
    return enrollment


def _add_factor(user: User, enrollment: PendingSmsEnrollment, now: datetime) -> None:
    with transaction.atomic():
        SmsFactor.objects.create(user=user, phone=enrollment.phone, enabled_at=now)
        enrollment.delete()
    notifications.send_factor_added(user, LABELS[SMS])
    record(Event.FACTOR_ADDED, subject=user, factor="sms", detail=_masked(enrollment.phone))


def show_backup_codes(user: User, *, now: datetime | None = None) -> list[str]:
    """The backup codes of a confirmed enrollment: made at the first call, the same set at
    every later one (a reload) until activation, on any page or endpoint."""
    enrollment = _require_first_factor(user)
    if enrollment.verified_at is None:
        raise FlowError(
            gettext("Confirm your number with the code first."), code="phone_not_confirmed"
        )
    return backup_codes.codes_of_enrollment(user, enrollment.backup_codes_label, now=now)


def activate(user: User, *, saved_backup_codes: bool, now: datetime | None = None) -> SmsFactor:
    """The last step: only now does two-factor authentication become active, all at once."""
    now = now or clock.now()
    if not saved_backup_codes:
        raise FlowError(
            gettext("Confirm that you have saved your backup codes."),
            code="backup_codes_not_saved",
            param="saved_backup_codes",
        )
    enrollment = _require_first_factor(user)
    if enrollment.purpose != Purpose.ENROLL or enrollment.verified_at is None:
        raise FlowError(
            gettext("Confirm your number with the code first."), code="phone_not_confirmed"
        )
    with transaction.atomic():
        backup_codes.activate_pending(user, enrollment.backup_codes_label)
        factor = SmsFactor.objects.create(user=user, phone=enrollment.phone, enabled_at=now)
        enrollment.delete()
    notifications.send_two_factor_enabled(user, mask(factor.phone))
    record(Event.TWO_FACTOR_ENABLED, subject=user, factor="sms", detail=_masked(factor.phone))
    return factor


def regenerate_backup_codes(user: User, *, now: datetime | None = None) -> list[str]:
    """A new set replaces the whole old one at once."""
    if not member_factors.has_second_factor(user):
        raise Conflict(gettext("Turn on two-factor authentication first."), code="two_factor_off")
    with transaction.atomic():
        shown = backup_codes.create_pending(user, now=now)
        backup_codes.activate_pending(user)
    notifications.send_backup_codes_regenerated(user)
    record(Event.BACKUP_CODES_REGENERATED, subject=user, factor="backup_code")
    return shown


def disable(user: User) -> None:
    """Turn two-factor authentication off: every factor, whichever (``removal.turn_off``)."""
    removal.turn_off(user)


def cancel(user: User) -> None:
    """Abandon an enrollment or number change: everything is as before it started."""
    with transaction.atomic():
        PendingSmsEnrollment.objects.filter(user=user).delete()
        backup_codes.BackupCode.objects.filter(user=user, active=False).delete()


def _masked(phone: str) -> dict[str, str]:
    return {"masked_phone": mask(phone)}  # never the full number in the audit log


def _require_pending(user: User) -> PendingSmsEnrollment:
    enrollment = pending(user)
    if enrollment is None:
        raise FlowError(
            gettext("Start again by entering your mobile number."), code="enrollment_missing"
        )
    return enrollment


def _require_first_factor(user: User) -> PendingSmsEnrollment:
    """The enrollment's last steps (backup codes, activation) apply to a first factor only: with
    another factor on meanwhile, they would replace its backup codes, so the enrollment goes."""
    enrollment = _require_pending(user)
    if enrollment.purpose == Purpose.ENROLL and member_factors.has_second_factor(user):
        activation.void_sms_enrollment(user)
        raise FlowError(activation.ANOTHER_FACTOR_ON, code="enrollment_missing")
    return enrollment
