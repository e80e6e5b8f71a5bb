"""Whether a member must keep two-factor authentication: the account's policy decides.

The mandatory-2FA policy of an account plugs in here (one function), so the settings page and
the API refuse to turn 2FA off for the same reason.
"""

from __future__ import annotations

from twofold.users.models import User


def two_factor_required(user: User) -> bool:
    """True when the member's account requires two-factor authentication (aal2)."""
    return False  # until accounts can require it (mandatory 2FA)
