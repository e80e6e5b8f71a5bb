"""What a pending login keeps for Twofold's stages between requests: each stage's part of
allauth's ``Login.state``, stored with the pending login in the server-side session."""

from __future__ import annotations

from typing import TypedDict


class SecondFactorState(TypedDict, total=False):
    """The second-factor step (``signin/second_factor.py``)."""

    binding: str  # texted codes are good for this login only (ASVS 6.6.2)
    method: str | None  # the factor asked for now: the preferred one, or the one chosen
    send_error: str  # why the first text could not be sent (the page offers a resend)


class EnrollmentState(TypedDict, total=False):
    """Forced enrollment at sign-in (``signin/forced_enrollment.py``)."""

    binding: str  # the SMS enrollment this login started (ASVS 6.6.2)
    method: str  # what the member is setting up
    # An SSO sign-in's policy asks for our 2FA: no postponing.
    sso_requires_our_two_factor: bool
