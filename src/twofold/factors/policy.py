"""Whether a member must keep two-factor authentication: the account's policy decides.

The mandatory-2FA policy of an account (``organizations/policy.py``) plugs in here (one
function), so the settings page and the API refuse to turn 2FA off for the same reason.
"""

from __future__ import annotations

from twofold.organizations.policy import rule_for
from twofold.users.models import User


def two_factor_required(user: User) -> bool:
    """True when the member's account requires two-factor authentication (aal2)."""
    return rule_for(user).required
