"""What every second-factor challenge is: an :class:`Attempt` asked of a member, a
:class:`Challenge` that opens and checks it, and what a right answer leaves (:class:`Verified`).
The table of them is ``factors/challenges.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext

from twofold.errors import FlowError
from twofold.users.models import User


@dataclass(frozen=True)
class Attempt:
    """One proof asked of a member: at sign-in (``purpose`` ``sign_in``, bound to the pending
    login) or re-authentication (``reauthenticate``, bound to the session)."""

    user: User
    session: SessionBase
    host: str  # the site the browser is on: a security key's relying party
    ip: str | None  # who asked, for the send limits of texted codes
    purpose: str
    binding: str  # a texted code is good for this login (or session) only (ASVS 6.6.2)


@dataclass(frozen=True)
class Verified:
    """A right answer: what allauth records of it (``type`` and more), and for a backup code,
    how many are left."""

    record: dict[str, Any] = field(default_factory=dict)
    backup_codes_left: int | None = None


class Challenge(Protocol):
    # The code is delivered to the member (texted): the challenge opens as soon as the method is
    # asked for, and can be sent again.
    delivered: bool

    def begin(self, attempt: Attempt, *, again: bool = False) -> dict[str, Any] | None:
        """Open the challenge: text a code (``again``: a new one, the cooldown applies; else only
        when none is open), or a security key's request options; None when nothing is needed."""

    def waiting(self, attempt: Attempt) -> bool:
        """A delivered code of this attempt can still be tried."""

    def seconds_until_again(self, attempt: Attempt) -> int:
        """The wait before a new code can be delivered (the resend cooldown); 0 when none is."""

    def verify(self, attempt: Attempt, answer: Any) -> Verified:
        """Accept ``answer`` (a code, or a key's assertion) once, or raise a FlowError."""


def code_of(answer: Any) -> str:
    """A typed code; a browser's answer (an object) where a code was expected is refused as a
    missing field (``required``; ``code_missing`` is a texted code not open)."""
    if not isinstance(answer, str):
        raise FlowError(gettext("Enter the code."), code="required", param="code")
    return answer
