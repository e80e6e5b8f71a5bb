"""Seed a baseline project: ``count`` members (the same emails and password as Twofold's
benchmark), one password hash made once and reused, in bulk. Prints the argon2 parameters."""

from __future__ import annotations

import json
import sys

from bench.baseline.settings import BASELINE_ARGON2, FLAVOUR
from bench.population import PASSWORD, members

BATCH = 5_000


def seed(count: int) -> dict[str, object]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(username=m.email, email=m.email, password=password_hash) for m in members(count)],
            batch_size=BATCH,
        )
        if FLAVOUR == "allauth":
            from allauth.account.models import EmailAddress

            EmailAddress.objects.bulk_create(
                [EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in users],
                batch_size=BATCH,
            )
    return {"members": count, "argon2": dict(BASELINE_ARGON2)}


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(seed(int(sys.argv[1]))))
