"""At most one password hash per core at a time, across threads and processes (issue 7)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password

from tests.concurrency import at_once
from twofold.users import hashers
from twofold.users.hash_slots import HashSlots


def test_no_more_hashes_at_once_than_slots(tmp_path: Path) -> None:
    slots = HashSlots(tmp_path, 2)
    inside = 0
    most = 0
    lock = threading.Lock()

    def hash_once() -> None:
        nonlocal inside, most
        with slots.held():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.01)  # holds the slot while others try (not a timing assertion)
            with lock:
                inside -= 1

    outcomes = at_once(hash_once, times=20)
    assert outcomes == [None] * 20
    assert most == 2


def test_a_slot_held_by_a_process_that_dies_is_free_again(tmp_path: Path) -> None:
    slots = HashSlots(tmp_path, 1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
            str(slots.paths[0]),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        taken = threading.Event()

        def take() -> None:
            with slots.held():
                taken.set()

        waiting = threading.Thread(target=take)
        waiting.start()
        assert not taken.wait(timeout=0.5), "took a slot another process holds"
        holder.kill()  # as gunicorn kills a worker that timed out
        assert taken.wait(timeout=30)
        waiting.join()
    finally:
        holder.kill()
        holder.communicate()


def test_password_hashes_wait_for_a_free_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = HashSlots(tmp_path, 1)
    monkeypatch.setattr(hashers, "_SLOTS", slots)
    encoded = make_password("a passphrase of some length")
    taken = os.open(slots.paths[0], os.O_RDWR)
    fcntl.flock(taken, fcntl.LOCK_EX)
    results: list[bool] = []
    try:
        checking = threading.Thread(
            target=lambda: results.append(
                hashers.TwofoldArgon2Hasher().verify("a passphrase of some length", encoded)
            )
        )
        checking.start()
        checking.join(timeout=0.5)
        assert checking.is_alive(), "hashed without a slot"
        assert results == []
    finally:
        fcntl.flock(taken, fcntl.LOCK_UN)
        os.close(taken)
    checking.join(timeout=30)
    assert results == [True]
