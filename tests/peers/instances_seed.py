"""The members of tests/peers/test_two_instances.py, written straight into the two instances'
database: an account, and members whose second factor is on (SMS, an authenticator app, or both)
as a finished set-up leaves it. Run in the servers' environment:
``python -c "import django; django.setup(); from tests.peers.instances_seed import main; main()"``
reads ``[{"email", "phone", "totp"}, ...]`` from stdin (the first is the account's
administrator) and prints ``{email: {"backup_codes": [...], "totp_secret": ...}}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from tests.conftest import PASSWORD
from twofold import clock
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.sms.models import SmsFactor
from twofold.factors.totp import codes, crypto
from twofold.organizations.flows import create_organization
from twofold.organizations.models import Membership, Role
from twofold.users.models import User


def seed(members: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    made: dict[str, dict[str, Any]] = {}
    organization = None
    for member in members:
        user = User.objects.create_user(member["email"], PASSWORD)
        EmailAddress.objects.create(user=user, email=member["email"], primary=True, verified=True)
        if organization is None:
            organization = create_organization(user, "Two Instances AG").organization
        else:
            Membership.objects.create(user=user, organization=organization, role=Role.MEMBER)
        if member.get("phone"):
            SmsFactor.objects.create(user=user, phone=member["phone"], enabled_at=clock.now())
        secret = None
        if member.get("totp"):
            secret = codes.generate_totp_secret()
            Authenticator.objects.create(
                user=user, type=Authenticator.Type.TOTP, data={"secret": crypto.encrypt(secret)}
            )
        made[member["email"]] = {
            "backup_codes": backup_codes.create_pending(user),
            "totp_secret": secret,
        }
        backup_codes.activate_pending(user)
    return made


def main() -> None:
    json.dump(seed(json.load(sys.stdin)), sys.stdout)
