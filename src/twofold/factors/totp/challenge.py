"""A code of the member's authenticator app, as a second-factor challenge
(``factors/challenges.py``): nothing is sent; each time step's code is accepted once."""

from __future__ import annotations

from typing import Any

from twofold.factors.attempts import Attempt, Verified, code_of
from twofold.factors.totp import flows


class TotpChallenge:
    delivered = False

    def begin(self, attempt: Attempt, *, again: bool = False) -> dict[str, Any] | None:
        return None

    def waiting(self, attempt: Attempt) -> bool:
        return False

    def seconds_until_again(self, attempt: Attempt) -> int:
        return 0

    def verify(self, attempt: Attempt, answer: Any) -> Verified:
        flows.verify(attempt.user, code_of(answer))
        return Verified(record={"type": "totp"})
