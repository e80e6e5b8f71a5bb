"""The ceiling: raw argon2id verifications per second on every core, one process per core,
with the parameters the server uses. A sign-in verifies one password, so a server doing
nothing but hashing would sign in this many people per second."""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass

from argon2 import PasswordHasher, Type

PASSWORD = "ceiling-password"


@dataclass(frozen=True)
class Ceiling:
    processes: int
    seconds: float
    hashes: int

    @property
    def per_second(self) -> float:
        return self.hashes / self.seconds


def _hasher(params: dict[str, int]) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params["time_cost"],
        memory_cost=params["memory_cost"],
        parallelism=params["parallelism"],
        type=Type.ID,
    )


def _count(params: dict[str, int], encoded: str, start_at: float, seconds: float) -> int:
    hasher = _hasher(params)
    while time.time() < start_at:  # every process starts together
        time.sleep(0.001)
    done = 0
    deadline = start_at + seconds
    while time.time() < deadline:
        hasher.verify(encoded, PASSWORD)
        done += 1
    return done


def measure(params: dict[str, int], seconds: float, processes: int | None = None) -> Ceiling:
    processes = processes or os.cpu_count() or 1
    encoded = _hasher(params).hash(PASSWORD)
    # spawn: the driver's threads may have run in this process; fork would copy their locks.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        start_at = time.time() + 1.5  # after the interpreters started
        counts = pool.starmap(_count, [(params, encoded, start_at, seconds)] * processes)
    return Ceiling(processes=processes, seconds=seconds, hashes=sum(counts))
