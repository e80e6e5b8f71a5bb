"""The people and settings behind every page of the accessibility tour, written straight into an
end-to-end server's database (run inside the server's environment, as ``sso_seed``): ``main()``
prints ``{"invitation": <token>, "application": <id>, "connection": <id>}``.

One account with an administrator (no 2FA of her own), a member with SMS 2FA, a pending
invitation, an application and a SAML connection; a second account that requires 2FA, with a
member who has none (the forced-enrollment pages).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from allauth.account.models import EmailAddress

from tests.conftest import PASSWORD, give_sms_factor
from twofold import clock
from twofold.idp import applications
from twofold.organizations import flows
from twofold.organizations.models import Membership, Organization, Role
from twofold.sso.models import EmailDomain, SamlConnection
from twofold.users.models import User

ADMINISTRATOR = "ada@axe.test"
MEMBER = "bob@axe.test"
MEMBER_PHONE = "+41791234567"
INVITED = "carol@axe.test"
STRICT_ADMINISTRATOR = "sam@strict.test"
ENROLLING = "dora@strict.test"
POLICY_ADMINISTRATOR = "pia@policy.test"  # with SMS 2FA, in an account that does not require it
POLICY_PHONE = "+41790000002"


def _person(organization: Organization, email: str, name: str, role: str) -> Membership:
    user = User.objects.create_user(email, PASSWORD, name=name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return Membership.objects.create(user=user, organization=organization, role=role)


def _certificate() -> str:
    with tempfile.TemporaryDirectory() as directory:
        key, cert = Path(directory, "key.pem"), Path(directory, "cert.pem")
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"),
                *("-days", "30", "-subj", "/CN=idp.axe.test"),
                *("-keyout", str(key), "-out", str(cert)),
            ],
            check=True,
            capture_output=True,
        )
        return cert.read_text()


def seed() -> dict[str, object]:
    administrator = Membership.objects.get(user__email=ADMINISTRATOR)
    organization = administrator.organization
    give_sms_factor(_person(organization, MEMBER, "Bob Builder", Role.MEMBER), MEMBER_PHONE)
    invitation = flows.invite_member(administrator, INVITED)
    registered = applications.register_for(
        administrator,
        {"name": "Wiki", "redirect_uris": ["https://wiki.axe.test/oidc/callback"]},
    )
    connection = SamlConnection.objects.create(
        organization=organization,
        name="Axe IdP",
        idp_entity_id="https://idp.axe.test/metadata",
        idp_sso_url="https://idp.axe.test/sso",
        idp_certificate=_certificate(),
    )
    EmailDomain.objects.create(organization=organization, domain="axe.test", connection=connection)

    strict = Organization.objects.create(
        name="Strict AG", require_two_factor=True, two_factor_required_since=clock.now()
    )
    give_sms_factor(
        _person(strict, STRICT_ADMINISTRATOR, "Sam", Role.ADMINISTRATOR), "+41790000001"
    )
    _person(strict, ENROLLING, "Dora", Role.MEMBER)
    policy_account = Organization.objects.create(name="Policy AG")
    give_sms_factor(
        _person(policy_account, POLICY_ADMINISTRATOR, "Pia", Role.ADMINISTRATOR), POLICY_PHONE
    )
    return {
        "invitation": invitation.token,
        "application": registered.application.pk,
        "connection": connection.pk,
    }


def main() -> None:
    print(json.dumps(seed()))
