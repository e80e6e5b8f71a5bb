"""The resend cooldown holds across instances: two ``twofold serve`` processes on one database
(SQLite file, or PostgreSQL + Redis with ``python -m tests.services``) each take one resend of
the same login at the same moment, and one text goes out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db.models import F

from tests.conftest import PASSWORD
from tests.sms.test_limits import other_number
from twofold import clock
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership
from twofold.sms.models import DeliveryStatus, SmsDelivery

PAIRS = 13
LOGIN = "/_allauth/app/v1/auth/login"
RESEND = "/_allauth/app/v1/auth/2fa/sms/resend"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return _http().get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only: no proxy from the environment
    return session


@contextmanager
def instances(count: int, logs: Path) -> Iterator[list[str]]:
    """``count`` processes of ``twofold serve``, each on a free port of 127.0.0.1, with this test
    run's database, until the block ends; their URLs once each answers ``/healthz``."""
    with ExitStack() as stack:
        started = [stack.enter_context(_serving(logs / f"{n}.log")) for n in range(count)]
        deadline = time.monotonic() + 90
        for url, server, log in started:
            while not _healthy(url):
                assert server.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
        yield [url for url, _, _ in started]


@contextmanager
def _serving(log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environ.update(
        TWOFOLD_HOST="127.0.0.1",
        TWOFOLD_PORT=str(port),
        TWOFOLD_WORKERS="1",
        TWOFOLD_LOG_LEVEL="WARNING",
        TWOFOLD_TRUSTED_PROXY_COUNT="1",  # each member signs in from its own address
    )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "twofold.cli", "serve"],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", server, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def sign_in(url: str, membership: Membership, n: int) -> dict[str, str]:
    """The password step of the app API: the login waits at the second factor (a code texted)."""
    address = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
    body = {"email": membership.user.email, "password": PASSWORD}
    answer = _http().post(f"{url}{LOGIN}", json=body, headers=address, timeout=30)
    assert answer.status_code == 401, answer.text
    return {**address, "X-Session-Token": answer.json()["meta"]["session_token"]}


def together(*calls: Callable[[], int]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    results: list[int] = []
    lock = threading.Lock()

    def run(call: Callable[[], int]) -> None:
        barrier.wait()
        status = call()
        with lock:
            results.append(status)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


def resend(url: str, headers: dict[str, str]) -> Callable[[], int]:
    return lambda: _http().post(f"{url}{RESEND}", headers=headers, timeout=30).status_code


@pytest.mark.django_db(transaction=True)
def test_asvs_6_6_3_simultaneous_resends_on_two_instances_send_one_text(
    make_member: Callable[..., Membership], tmp_path: Path
) -> None:
    members = [make_member(f"m{n}@pairs{n}.test") for n in range(PAIRS)]
    for n, member in enumerate(members):  # SMS 2FA on (backup codes play no part here)
        SmsFactor.objects.create(user=member.user, phone=other_number(n), enabled_at=clock.now())
    with instances(2, tmp_path) as (first, second):
        logins = [sign_in(first, member, n) for n, member in enumerate(members)]
        # Each sign-in texted a code; move those texts back past the cooldown, as if 60 s passed.
        SmsDelivery.objects.update(created_at=F("created_at") - timedelta(seconds=60))

        answers = [together(resend(first, login), resend(second, login)) for login in logins]

    doubled = answers.count([200, 200])
    assert answers == [[200, 429]] * PAIRS, f"{doubled} of {PAIRS} pairs sent two texts"
    for member in members:
        texts = SmsDelivery.objects.filter(user=member.user, status=DeliveryStatus.SENT)
        assert texts.count() == 2  # the sign-in's code, and one of the two resends
