"""Microsoft sign-ins are accepted only from the Entra tenants an account allows (DESIGN.md
"SSO"; threats.md 4.5: with the multi-tenant endpoint anyone's tenant could otherwise sign in).

The tenant is the ID token's ``tid``, which the issuer check has already tied to ``iss``
(sso/oidc.py). An account that allows no tenant accepts no Microsoft sign-in.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialLogin

from twofold.organizations.models import Organization
from twofold.sso.models import AccountSso
from twofold.sso.oidc import id_token_claims

MICROSOFT = "microsoft"


def allowed(sociallogin: SocialLogin, organization: Organization | None) -> bool:
    """Not a Microsoft sign-in, or one from a tenant ``organization`` allows."""
    if sociallogin.account.provider != MICROSOFT:
        return True
    if organization is None:
        return False
    tenant = id_token_claims(sociallogin).get("tid")
    sso = AccountSso.objects.of(organization).first()
    return sso is not None and isinstance(tenant, str) and tenant in sso.microsoft_tenants
