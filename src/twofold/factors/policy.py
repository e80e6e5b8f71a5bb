"""Whether a member must keep two-factor authentication: the account's policy decides.

The mandatory-2FA policy of an account (``organizations/policy.py``) plugs in here (one
function), so the settings page and the API refuse to turn 2FA off for the same reason.
"""

from __future__ import annotations

from twofold.errors import NotAllowed
from twofold.factors import registry
from twofold.organizations.policy import allowed_methods_for, rule_for
from twofold.users.models import User


def two_factor_required(user: User) -> bool:
    """True when the member's account requires two-factor authentication (aal2)."""
    return rule_for(user).required


def method_allowed(user: User, method: str) -> bool:
    """The member's account lets its members use ``method`` (its method policy)."""
    return method in allowed_methods_for(user)


def require_allowed(user: User, method: str) -> None:
    """Refuse to set up a method the account does not allow: 403 ``method_not_allowed``."""
    if not method_allowed(user, method):
        label = registry.LABELS.get(method, method)
        raise NotAllowed(
            f"Your account does not allow {label} for two-factor authentication. "
            "Choose another method.",
            code="method_not_allowed",
            param="method",
        )


def usable_methods(user: User) -> list[str]:
    """The member's factors accepted at sign-in, strongest first: those the account allows;
    all of them when none is (the member signs in with one, then must add an allowed one)."""
    available = registry.methods(user)
    allowed = allowed_methods_for(user)
    return [method for method in available if method in allowed] or available


def needs_allowed_factor(user: User) -> bool:
    """The member has second factors, but none the account allows any more."""
    allowed = allowed_methods_for(user)
    if all(method in allowed for method in registry.METHODS):
        return False  # every method is allowed: nothing more to read
    available = registry.methods(user)
    return bool(available) and not any(method in allowed for method in available)
