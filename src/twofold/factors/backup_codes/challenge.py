"""One of the member's backup codes, in place of any second factor (``factors/challenges.py``):
spent once, whatever the factors and the account's method policy."""

from __future__ import annotations

from typing import Any

from twofold import clock
from twofold.factors.attempts import Attempt, Verified, code_of
from twofold.factors.backup_codes.flows import consume_backup_code
from twofold.factors.sms.models import SmsFactor


class BackupCodeChallenge:
    delivered = False

    def begin(self, attempt: Attempt, *, again: bool = False) -> dict[str, Any] | None:
        return None

    def waiting(self, attempt: Attempt) -> bool:
        return False

    def seconds_until_again(self, attempt: Attempt) -> int:
        return 0

    def verify(self, attempt: Attempt, answer: Any) -> Verified:
        left = consume_backup_code(attempt.user, code_of(answer))
        # Two-factor authentication was used (the settings page's "last used").
        SmsFactor.objects.filter(user=attempt.user).update(last_used_at=clock.now())
        return Verified(record={"type": "backup_codes"}, backup_codes_left=left)
