"""Members linked to an identity provider, written straight into an end-to-end server's database.

An administrator sets this up on pages the SSO journeys do not test; the browser then plays only
the sign-in. Run inside the server's environment by :func:`tests.e2e.test_sso_journey.seed`:
``python -c "...; main()"`` reads ``{"call": <name>, "arguments": {...}}`` from stdin and calls
one function of :data:`CALLS`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from tests.conftest import PASSWORD, give_sms_factor
from tests.peers.harness import SamlIdp
from tests.sso.saml import connect
from twofold.organizations.models import Membership, Role
from twofold.users.models import User


def member_with_sms(administrator: str, email: str, name: str, phone: str) -> Membership:
    """A member of ``administrator``'s account whose SMS two-factor authentication is on."""
    organization = Membership.objects.get(user__email=administrator).organization
    user = User.objects.create_user(email, PASSWORD, name=name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    membership = Membership.objects.create(user=user, organization=organization, role=Role.MEMBER)
    return give_sms_factor(membership, phone)


def google_member(administrator: str, email: str, name: str, phone: str, sub: str) -> None:
    """The member signs in with Google as ``sub``: keyed by (provider, subject), never email."""
    membership = member_with_sms(administrator, email, name, phone)
    SocialAccount.objects.create(user=membership.user, provider="google", uid=sub)


def saml_member(
    administrator: str,
    email: str,
    name: str,
    phone: str,
    idp: dict[str, str],
    sso_url: str,
    slug: str,
    domain: str,
    trust: str,
) -> None:
    """The account's SAML connection ``slug`` owns ``domain`` and sends browsers to ``sso_url``
    (the IdP under the name the browser knows it by); the member is linked to it by the NameID
    the identity provider asserts for them (their email)."""
    membership = member_with_sms(administrator, email, name, phone)
    connection = connect(membership.organization, SamlIdp(**idp), slug=slug, domain=domain)
    connection.idp_sso_url = sso_url
    connection.trust = trust
    connection.save()
    SocialAccount.objects.create(user=membership.user, provider=connection.provider_id, uid=email)


CALLS = {"google_member": google_member, "saml_member": saml_member}


def main() -> None:
    request: dict[str, Any] = json.load(sys.stdin)
    CALLS[request["call"]](**request["arguments"])
