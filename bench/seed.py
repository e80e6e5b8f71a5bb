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

from bench.population import ACCOUNT_SIZE, PASSWORD, Member

BATCH = 5_000
CHUNK = 50_000  # members per transaction, a multiple of ACCOUNT_SIZE


def seed(count: int) -> dict[str, object]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.cache import caches

    started = time.monotonic()
    # Rate limits, sessions and SMS counters of an earlier run (Redis outlives the data dir).
    for alias in settings.CACHES:
        caches[alias].clear()
    password_hash = make_password(PASSWORD)  # the configured hasher and parameters
    # In chunks of whole accounts, one transaction each: memory stays flat for a million.
    accounts = 0
    for first in range(0, count, CHUNK):
        accounts += _seed_chunk(first, min(first + CHUNK, count), password_hash)
    return {
        "members": count,
        "accounts": accounts,
        "argon2": dict(settings.TWOFOLD_ARGON2),
        "password_hash_prefix": password_hash.split("$")[1:4],
        "seconds": round(time.monotonic() - started, 2),
    }


def _seed_chunk(first: int, end: int, password_hash: str) -> int:
    """Members ``first`` to ``end`` (exclusive; ``first`` starts an account): the number of
    accounts made."""
    from allauth.account.models import EmailAddress
    from django.db import transaction

    from twofold import clock
    from twofold.factors.sms.models import SmsFactor
    from twofold.organizations.models import Membership, Organization, Role
    from twofold.users.models import User

    now = clock.now()
    chunk = [Member(i) for i in range(first, end)]
    with transaction.atomic():
        numbers = sorted({m.account for m in chunk})
        accounts = dict(
            zip(
                numbers,
                Organization.objects.bulk_create(
                    [Organization(name=f"Bench account {n}") for n in numbers], batch_size=BATCH
                ),
                strict=True,
            )
        )
        users = User.objects.bulk_create(
            [User(email=m.email, password=password_hash) for m in chunk], batch_size=BATCH
        )
        pairs = list(zip(chunk, users, strict=True))
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=m.email, primary=True, verified=True) for m, u in pairs],
            batch_size=BATCH,
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    user=u,
                    organization=accounts[m.account],
                    role=Role.ADMINISTRATOR if m.index % ACCOUNT_SIZE == 0 else Role.MEMBER,
                )
                for m, u in pairs
            ],
            batch_size=BATCH,
        )
        SmsFactor.objects.bulk_create(
            [SmsFactor(user=u, phone=m.phone, enabled_at=now) for m, u in pairs if m.has_sms],
            batch_size=BATCH,
        )
    return len(accounts)


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
