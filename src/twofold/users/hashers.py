"""argon2id with explicit parameters.

Django's default Argon2 parameters (p=8) cost about 210 ms CPU on 2 cores; OWASP's minimum
(m=19 MiB, t=2, p=1) costs about 24 ms and is what Twofold uses unless configured otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TwofoldArgon2Hasher(Argon2PasswordHasher):
    """Parameters from ``TWOFOLD_ARGON2``; hashes made with others are upgraded at sign-in."""

    algorithm = "argon2"

    def __init__(self) -> None:
        params = settings.TWOFOLD_ARGON2
        self.time_cost = int(params["time_cost"])
        self.memory_cost = int(params["memory_cost"])
        self.parallelism = int(params["parallelism"])
