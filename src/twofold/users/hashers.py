"""argon2id with explicit parameters, at most one hash per core at a time.

Django's default Argon2 parameters (p=8) cost about 210 ms CPU on 2 cores; OWASP's minimum
(m=19 MiB, t=2, p=1) costs about 24 ms and is what Twofold uses unless configured otherwise.
Every hash and verification takes a slot (:mod:`twofold.users.hash_slots`), so a burst of
sign-ins queues for the cores instead of time-slicing hashes against each other.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

from twofold.users.hash_slots import HashSlots


class TwofoldArgon2Hasher(Argon2PasswordHasher):
    """Parameters from ``TWOFOLD_ARGON2``; hashes made with others are upgraded at sign-in."""

    algorithm = "argon2"

    def __init__(self) -> None:
        params = settings.TWOFOLD_ARGON2
        self.time_cost = int(params["time_cost"])
        self.memory_cost = int(params["memory_cost"])
        self.parallelism = int(params["parallelism"])

    def encode(self, password: str, salt: str) -> str:
        with _slots().held():
            return str(super().encode(password, salt))

    def verify(self, password: str, encoded: str) -> bool:
        with _slots().held():
            return bool(super().verify(password, encoded))


_SLOTS: HashSlots | None = None


def _slots() -> HashSlots:
    """One per process, made on first use (the data directory comes from the settings)."""
    global _SLOTS
    if _SLOTS is None:
        _SLOTS = HashSlots(settings.TWOFOLD.data_dir / "hash-slots", settings.TWOFOLD.hash_slots)
    return _SLOTS
