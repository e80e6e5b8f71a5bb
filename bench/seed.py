"""Seed a fresh database with N members in accounts of ten, half with SMS 2FA, in bulk.

Run with Twofold's settings (``DJANGO_SETTINGS_MODULE=twofold.config.settings``) after
``twofold migrate``. Every member gets the same password hash, made once with the configured
hasher: one argon2id per member would take minutes for a million. Prints one JSON line: the
argon2 parameters in force, how many members, how long it took.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

BATCH = 5_000


def seed(count: int) -> dict[str, object]:
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from bench.population import ACCOUNT_SIZE, PASSWORD, members
    from twofold import clock
    from twofold.factors.sms.models import SmsFactor
    from twofold.organizations.models import Membership, Organization, Role
    from twofold.users.models import User

    started = time.monotonic()
    password_hash = make_password(PASSWORD)  # the configured hasher and parameters
    now = clock.now()
    everyone = members(count)
    with transaction.atomic():
        accounts = Organization.objects.bulk_create(
            [Organization(name=f"Bench account {n}") for n in range(-(-count // ACCOUNT_SIZE))],
            batch_size=BATCH,
        )
        users = User.objects.bulk_create(
            [User(email=m.email, password=password_hash) for m in everyone], batch_size=BATCH
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=u, email=m.email, primary=True, verified=True)
                for m, u in zip(everyone, users, strict=True)
            ],
            batch_size=BATCH,
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    user=u,
                    organization=accounts[m.account],
                    role=Role.ADMINISTRATOR if m.index % ACCOUNT_SIZE == 0 else Role.MEMBER,
                )
                for m, u in zip(everyone, users, strict=True)
            ],
            batch_size=BATCH,
        )
        SmsFactor.objects.bulk_create(
            [
                SmsFactor(user=u, phone=m.phone, enabled_at=now)
                for m, u in zip(everyone, users, strict=True)
                if m.has_sms
            ],
            batch_size=BATCH,
        )
    return {
        "members": count,
        "accounts": len(accounts),
        "argon2": dict(settings.TWOFOLD_ARGON2),
        "password_hash_prefix": password_hash.split("$")[1:4],
        "seconds": round(time.monotonic() - started, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    import django

    django.setup()
    print(json.dumps(seed(args.members)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
