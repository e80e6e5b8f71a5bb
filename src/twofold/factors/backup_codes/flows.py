"""Generate, hash, consume once, regenerate (DESIGN.md "Backup codes").

10 codes per member, 13 characters of a 32-letter alphabet without look-alikes (65 bits),
shown in groups; hashed with argon2id; consumed atomically, so a code used twice at the same
moment succeeds once.

A set-up's codes (:func:`codes_of_enrollment`) are made once per set-up: every reload of its
last step shows the same set until activation, so codes a member already downloaded or printed
never stop working behind their back. Until then each pending code is also kept encrypted
(``totp/crypto.py``, under ``TWOFOLD_FACTOR_KEY``), and activation empties that copy: an active
code exists only as its hash, shown never again.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils.translation import gettext

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record, record_surviving_rollback
from twofold.errors import FlowError
from twofold.factors import lockout, notifications
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.totp import crypto
from twofold.users.models import User

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: nothing to misread
LENGTH = 13
COUNT = 10
FEW_LEFT = 3


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))  # CSPRNG (ASVS 6.5.3)


def grouped(code: str) -> str:
    """``ABCD-EFGH-JKLMN``: easier to copy by hand."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalized(typed: str) -> str:
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def create_pending(user: User, *, now: datetime | None = None) -> list[str]:
    """A fresh set of 10 codes that work only once ``activate_pending`` runs; returns them grouped.

    Any earlier pending set is dropped, so only the codes shown last can become active. For a
    regeneration, activated in the same transaction; a set-up uses :func:`codes_of_enrollment`.
    """
    return _new_pending(user, "", now or clock.now())


def codes_of_enrollment(user: User, enrollment: str, *, now: datetime | None = None) -> list[str]:
    """The pending set of the set-up ``enrollment`` (a label unique to it): made at the first
    call, the same codes at every later one until :func:`activate_pending`. Another set-up's
    pending set, if any, is replaced (only the codes shown last can become active).

    Runs under the member's row lock, so reloads arriving together all get the one set."""
    with transaction.atomic():
        # Serializes this member's pending sets: 20 reloads at once must not make 20 sets.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        shown = list(
            BackupCode.objects.filter(user=user, active=False, enrollment=enrollment)
            .exclude(sealed="")
            .order_by("pk")
            .values_list("sealed", flat=True)
        )
        if len(shown) == COUNT:
            return [grouped(crypto.decrypt(c, use=crypto.PENDING_BACKUP_CODE)) for c in shown]
        return _new_pending(user, enrollment, now or clock.now())


def _new_pending(user: User, enrollment: str, now: datetime) -> list[str]:
    codes = [_new_code() for _ in range(COUNT)]
    with transaction.atomic():
        BackupCode.objects.filter(user=user, active=False).delete()
        BackupCode.objects.bulk_create(
            BackupCode(
                user=user,
                code_hash=make_password(code),
                created_at=now,
                enrollment=enrollment,
                # Kept to show the set again, only for a set-up (a regeneration shows it once).
                sealed=crypto.encrypt(code, use=crypto.PENDING_BACKUP_CODE) if enrollment else "",
            )
            for code in codes
        )
    return [grouped(code) for code in codes]


def has_pending(user: User, enrollment: str = "") -> bool:
    return BackupCode.objects.filter(user=user, active=False, enrollment=enrollment).exists()


def activate_pending(user: User, enrollment: str = "") -> None:
    """Replace the active set by the pending one of ``enrollment`` (inside the caller's
    transaction): only the codes that set-up showed can become active."""
    if not has_pending(user, enrollment):
        raise FlowError(gettext("Show your backup codes first."), code="backup_codes_missing")
    BackupCode.objects.filter(user=user, active=True).delete()
    # The encrypted copies go: an active code exists only as its hash (ASVS 6.5.2).
    BackupCode.objects.filter(user=user, active=False, enrollment=enrollment).update(
        active=True, enrollment="", sealed=""
    )


def drop_pending(user: User, enrollment: str) -> None:
    """The pending set of a set-up that is abandoned, expired or void."""
    BackupCode.objects.filter(user=user, active=False, enrollment=enrollment).delete()


def remove_all(user: User) -> None:
    BackupCode.objects.filter(user=user).delete()


def remaining(user: User) -> int:
    return BackupCode.objects.filter(user=user, active=True, used_at__isnull=True).count()


def consume_backup_code(user: User, typed: str, *, now: datetime | None = None) -> int:
    """Spend one backup code; return how many are left. Raise FlowError when it does not work."""
    now = now or clock.now()
    had_failures = lockout.check_not_locked(user.pk, now)
    code = normalized(typed)
    candidates = BackupCode.objects.filter(user=user, active=True, used_at__isnull=True)
    match = next(
        (c for c in candidates if len(code) == LENGTH and check_password(code, c.code_hash)), None
    )
    # The conditional update is the single-use guarantee: of two racing requests, one wins.
    if match is None or not BackupCode.objects.filter(pk=match.pk, used_at__isnull=True).update(
        used_at=now
    ):
        record_surviving_rollback(Event.SECOND_FACTOR_FAILED, subject=user, factor="backup_code")
        if lockout.record_failure(user.pk, now):
            notifications.send_second_factor_locked(user)
        raise FlowError(
            gettext("That backup code is not right, or was already used."),
            code="backup_code_invalid",
            param="code",
        )
    lockout.record_success(user.pk, had_failures=had_failures)
    left = remaining(user)
    notifications.send_backup_code_used(user, left)
    record(Event.BACKUP_CODE_USED, subject=user, factor="backup_code", detail={"remaining": left})
    return left
