"""How far Twofold trusts the identity provider's own 2FA (issue 5, the help article).

Option 1, the default and the only one so far: "the identity provider's 2FA applies": a sign-in
through Google or Microsoft skips our second step and forced enrollment. Options 2 ("require the
identity provider to assert MFA") and 3 ("always require our 2FA as well") plug in here.
"""

from __future__ import annotations

from allauth.account.models import Login
from allauth.socialaccount.models import SocialLogin

from twofold.sso.oidc import id_token_claims


def social_login_of(login: Login) -> SocialLogin | None:
    sociallogin = (login.signal_kwargs or {}).get("sociallogin")
    return sociallogin if isinstance(sociallogin, SocialLogin) else None


def satisfies_second_factor(login: Login) -> bool:
    """The login came through an identity provider whose 2FA stands in for ours."""
    return social_login_of(login) is not None


def asserted_mfa(login: Login) -> bool:
    """The identity provider's ID token says the person used more than one factor (``amr``)."""
    sociallogin = social_login_of(login)
    if sociallogin is None:
        return False
    amr = id_token_claims(sociallogin).get("amr")
    return isinstance(amr, list) and "mfa" in amr
