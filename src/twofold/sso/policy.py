"""How far Twofold trusts an identity provider's own 2FA, per account (Google and Microsoft) and
per SAML connection (issue 5, the help article, DESIGN.md "SSO").

1. "The identity provider's 2FA applies" (the default): our second step and forced enrollment
   are skipped; the session is aal2.
2. "Require the identity provider to assert MFA": OIDC ``amr`` containing ``mfa`` or an ``acr``
   of the configured set; SAML an ``AuthnContextClassRef`` of the set. Without it: our 2FA
   instead, or the sign-in is refused, as the administrator chose.
3. "Always require our 2FA as well": our step always runs; a member without a second factor
   sets one up first.

:func:`verdict_for` decides once per social login; the adapter refuses (``REFUSED``), the login
stages skip or run our step (``TRUSTED`` / ``OUR_TWO_FACTOR``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from allauth.account.models import Login
from allauth.socialaccount.models import SocialLogin
from django.utils.translation import gettext_lazy

from twofold.organizations.models import Membership, Organization, membership_of
from twofold.sso.models import (
    AccountSso,
    TrustPolicy,
    TrustPolicyFields,
    WhenMfaMissing,
)
from twofold.sso.oidc import id_token_claims
from twofold.sso.saml import SAML_DATA, connection_of_provider
from twofold.users.models import User


class Outcome(enum.Enum):
    TRUSTED = "trusted"  # the identity provider's 2FA stands in for ours
    OUR_TWO_FACTOR = "our_two_factor"  # our second step runs (and enrollment, if none)
    REFUSED = "refused"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    asserted_mfa: bool
    policy: str

    @property
    def trusted(self) -> bool:
        return self.outcome is Outcome.TRUSTED


MFA_NOT_ASSERTED = gettext_lazy(
    "Your identity provider did not confirm a second factor for this sign-in, and your "
    "account requires it. Sign in again with your identity provider's two-step verification."
)


def social_login_of(login: Login) -> SocialLogin | None:
    sociallogin = (login.signal_kwargs or {}).get("sociallogin")
    return sociallogin if isinstance(sociallogin, SocialLogin) else None


def policy_for(sociallogin: SocialLogin, organization: Organization | None) -> TrustPolicyFields:
    """The connection's policy for a SAML sign-in; the account's for Google and Microsoft (the
    default policy when the account never changed it)."""
    connection = connection_of_provider(sociallogin.account.provider)
    if connection is not None:
        return connection
    found = AccountSso.objects.filter(organization=organization).first() if organization else None
    return found or AccountSso()


def asserted_mfa(sociallogin: SocialLogin, mfa_contexts: list[str]) -> bool:
    """The identity provider says the person used more than one factor: OIDC ``amr`` with
    ``mfa`` or an ``acr`` of ``mfa_contexts``; SAML an ``AuthnContextClassRef`` of them."""
    extra: dict[str, Any] = sociallogin.account.extra_data or {}
    saml = extra.get(SAML_DATA)
    if isinstance(saml, dict):
        contexts = saml.get("authn_contexts") or []
        return any(context in mfa_contexts for context in contexts)
    claims = id_token_claims(sociallogin)
    amr = claims.get("amr")
    if isinstance(amr, list) and "mfa" in amr:
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in mfa_contexts


def verdict_for(sociallogin: SocialLogin, organization: Organization | None) -> Verdict:
    policy = policy_for(sociallogin, organization)
    mfa = asserted_mfa(sociallogin, list(policy.mfa_contexts or []))
    if policy.trust == TrustPolicy.ALWAYS_OURS:
        outcome = Outcome.OUR_TWO_FACTOR
    elif policy.trust == TrustPolicy.REQUIRE_IDP_MFA and not mfa:
        refuse = policy.when_mfa_missing == WhenMfaMissing.REFUSE
        outcome = Outcome.REFUSED if refuse else Outcome.OUR_TWO_FACTOR
    else:
        outcome = Outcome.TRUSTED
    return Verdict(outcome, mfa, str(policy.trust))


def verdict(login: Login) -> Verdict | None:
    """The verdict on a pending login, or None when it did not come through an identity provider."""
    sociallogin = social_login_of(login)
    if sociallogin is None or login.user is None:
        return None
    membership = membership_of(login.user)
    return verdict_for(sociallogin, membership.organization if membership else None)


def satisfies_second_factor(login: Login) -> bool:
    """The login came through an identity provider whose 2FA stands in for ours."""
    found = verdict(login)
    return found is not None and found.trusted


def requires_our_two_factor(login: Login) -> bool:
    """An SSO login whose policy asks for our 2FA (option 3, or option 2's fallback)."""
    found = verdict(login)
    return found is not None and found.outcome is Outcome.OUR_TWO_FACTOR


SSO_REQUIRED = gettext_lazy(
    "Your account signs in through single sign-on only. Use “Sign in with SSO” (or Google or "
    "Microsoft) on the sign-in page."
)


def sso_required(user: User) -> bool:
    """The member's account requires SSO: no password (or emailed code) sign-in for them.
    Administrators keep their password, the way in when the identity provider is down."""
    # Membership, account and its SSO setting in one query, read as values (issue 7; were 3).
    found = (
        Membership.objects.filter(user_id=user.pk)
        .values_list("role", "organization__sso__require_sso")
        .first()
    )
    if found is None:
        return False
    role, require_sso = found
    if Membership(role=role).is_administrator:
        return False
    return bool(require_sso)  # None: the account never changed its SSO settings
