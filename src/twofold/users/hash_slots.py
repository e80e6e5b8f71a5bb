"""At most one password hash per core at a time, across all of gunicorn's workers.

A hash is pure CPU, and hashes time-sliced with each other cost more CPU each: on 2 cores an
argon2id verification costs 18.4 ms with 2 at once, 21.5 ms with 4 and 24.5 ms with 8 (issue 7,
docs/performance.md). Under load a sign-in therefore waits for a free slot instead of slowing
every other hash down; nothing else waits, since pages and the second-factor step take no slot.

The slots (``TWOFOLD_HASH_SLOTS``, by default the CPUs Twofold may run on) are files in the
data directory locked with ``flock``: the kernel releases a lock when the process holding it
dies, so a killed worker never keeps a slot.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twofold import metrics


class HashSlots:
    """``count`` slots shared by every process that opens the same ``directory``."""

    def __init__(self, directory: Path, count: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = [directory / f"hash-slot-{n}.lock" for n in range(count)]

    @contextmanager
    def held(self) -> Iterator[None]:
        # A lock belongs to an open file description: each holder opens its own (a few
        # microseconds against a hash's milliseconds), so two threads of one worker exclude each
        # other as two workers do, and nothing stays open after the hash.
        asked = time.perf_counter()
        first = random.randrange(len(self.paths))  # noqa: S311  (spreads waiters, not a secret)
        ordered = self.paths[first:] + self.paths[:first]
        descriptor = self._take_free(ordered)
        if descriptor is None:  # every slot busy: wait for one
            descriptor = _open(ordered[0])
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            except BaseException:
                os.close(descriptor)
                raise
        metrics.hash_slot_waited(time.perf_counter() - asked)
        try:
            yield
        finally:
            os.close(descriptor)  # closing the last descriptor releases the lock

    @staticmethod
    def _take_free(paths: list[Path]) -> int | None:
        for path in paths:
            descriptor = _open(path)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            return descriptor
        return None


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
