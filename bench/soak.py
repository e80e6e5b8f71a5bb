"""The soak: complete sign-ins at a steady rate for a long time, the server's memory sampled.

Unlike :func:`bench.driver.run_load` (each browser signs in back to back, as fast as it can), the
soak starts sign-ins on a fixed schedule (an open loop: a slow server does not slow the load
down), alternating password + SMS and password-only members. Every ``sample_every`` seconds it
reads the resident memory of the gunicorn master and its workers from ``/proc``.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.driver import FAILURES, MemberPool, Outbox, sign_in


def resident_kib(master: int) -> int:
    """Resident memory (KiB) of ``master`` and its children (the workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if entry.name == str(master) or fields.get("PPid", "").strip() == str(master):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


@dataclass
class SoakResult:
    rate: float  # sign-ins started per second
    seconds: float
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    memory: list[tuple[float, int]] = field(default_factory=list)  # (second, KiB)

    def memory_growth(self, window: float = 60.0) -> float:
        """Median memory of the last ``window`` seconds over that of the first (after the
        first sample), minus one: 0.05 is 5 % more."""
        first = [kib for t, kib in self.memory if t <= window]
        last = [kib for t, kib in self.memory if t >= self.seconds - window]
        if not first or not last:
            return float("nan")
        return statistics.median(last) / statistics.median(first) - 1


def run_soak(
    base_url: str,
    pools: Sequence[MemberPool],
    outbox: Outbox,
    master: int,
    rate: float,
    seconds: float,
    sample_every: float = 5.0,
) -> SoakResult:
    """Start ``rate`` sign-ins a second for ``seconds``, taking members from ``pools`` in turn."""
    result = SoakResult(rate=rate, seconds=seconds)
    lock = threading.Lock()
    started = time.monotonic()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result.memory.append((time.monotonic() - started, resident_kib(master)))
            stop.wait(sample_every)

    def one(pool: MemberPool) -> None:
        member, address = pool.take()
        began = time.monotonic()
        try:
            sign_in(base_url, member, outbox, address)
        except FAILURES as error:
            with lock:
                result.errors.append(f"{member.email}: {error}")
        else:
            with lock:
                result.completed += 1
                result.latencies.append(time.monotonic() - began)
        finally:
            pool.give_back(member)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # Enough threads that a sign-in waiting on a busy server never delays the next start.
    with ThreadPoolExecutor(max_workers=64) as browsers:
        n = 0
        while (due := started + n / rate) < started + seconds:
            time.sleep(max(0.0, due - time.monotonic()))
            browsers.submit(one, pools[n % len(pools)])
            n += 1
    stop.set()
    sampler.join()
    result.seconds = time.monotonic() - started
    return result
