"""The account's rules, checked again when an application asks for a code: a session signed in
before a rule changed gets no code that the rule would not give a sign-in today.

A sign-in is where the rules apply (signin/stages.py: the second factor, forced enrollment and
its grace period, the method policy, "Require SSO", the SSO trust policy, remembered browsers),
so a session made since meets them. An older one may not: the account made 2FA mandatory (the
grace period over), allowed no more of the member's methods, required SSO, or stopped honouring
remembered browsers. Such a session is asked to sign in again (the stages then apply) or, for
a remembered browser, to give its second factor; with ``prompt=none`` the application hears
``login_required`` / ``interaction_required``.
"""

from __future__ import annotations

from enum import Enum

from twofold.factors import policy
from twofold.factors.member_factors import has_second_factor
from twofold.idp.assurance import ACR_PREFIX, Proof
from twofold.signin import forced_enrollment
from twofold.sso import policy as sso_policy
from twofold.users.models import User


class Unmet(Enum):
    SIGN_IN_AGAIN = "sign_in_again"  # the stages of a new sign-in would ask for more
    SECOND_FACTOR = "second_factor"  # a remembered browser the account no longer honours


def unmet(user: User, proof: Proof) -> Unmet | None:
    """What the account's rules ask of this session now; None when it meets them."""
    if forced_enrollment.applies(user) and forced_enrollment.days_left(user) == 0:
        return Unmet.SIGN_IN_AGAIN  # 2FA is mandatory and overdue, or no allowed factor left
    if sso_policy.sso_required(user) and "fed" not in proof.amr:
        return Unmet.SIGN_IN_AGAIN
    at_aal1 = proof.acr != f"{ACR_PREFIX}aal2"
    if at_aal1 and has_second_factor(user) and not policy.remembered_devices_allowed(user):
        return Unmet.SECOND_FACTOR  # signed in on a remembered browser, no longer allowed
    return None
