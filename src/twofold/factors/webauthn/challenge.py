"""A signature of one of the member's security keys or passkeys over a challenge of this
session, as a second-factor challenge (``factors/challenges.py``; WebAuthn Level 3)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.factors.attempts import Attempt, Verified
from twofold.factors.webauthn import flows


class KeyChallenge:
    delivered = False

    def begin(self, attempt: Attempt, *, again: bool = False) -> dict[str, Any] | None:
        """What ``navigator.credentials.get()`` needs to sign this attempt's challenge."""
        rp = flows.relying_party(attempt.host)
        return flows.begin_assertion(attempt.session, rp, attempt.user)

    def waiting(self, attempt: Attempt) -> bool:
        return False

    def seconds_until_again(self, attempt: Attempt) -> int:
        return 0

    def verify(self, attempt: Attempt, answer: Any) -> Verified:
        if not isinstance(answer, dict):  # a typed code: a key answers through the browser
            raise FlowError(
                gettext("Use your security key when your browser asks for it."),
                code="credential_missing",
                param="credential",
            )
        rp = flows.relying_party(attempt.host)
        found = flows.verify(attempt.user, attempt.session, rp, answer)
        return Verified(record={"type": "webauthn", "id": found.pk})
