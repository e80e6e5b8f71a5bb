"""argon2id with the benchmark's parameters (Twofold's defaults unless ``TWOFOLD_ARGON2_*``)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

from bench.baseline.settings import BASELINE_ARGON2


class Argon2idHasher(Argon2PasswordHasher):
    def __init__(self) -> None:
        self.time_cost = BASELINE_ARGON2["time_cost"]
        self.memory_cost = BASELINE_ARGON2["memory_cost"]
        self.parallelism = BASELINE_ARGON2["parallelism"]
