"""The load driver: complete sign-ins as a browser makes them, from threads.

One sign-in: GET the login page (CSRF cookie and token), POST email and password; for a member
with SMS 2FA, read the code the outbox gateway wrote for their number and POST it; then the
signed-in page, which must name the member. It counts only when every step passed. Each
sign-in is a new browser (no cookies) from its own address (``X-Forwarded-For``, which the
server trusts with ``TWOFOLD_TRUSTED_PROXY_COUNT=1``): otherwise allauth's per-address login
limit (30 a minute) would stop the run.
"""

from __future__ import annotations

import collections
import html
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.population import PASSWORD, Member

# The last line of every text is "@<host> #<code>" (WebOTP domain-bound code).
SMS_CODE = re.compile(r"#(\d{6})\s*$")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
TIMEOUT = 30.0


class SignInFailed(Exception):
    """A step of a sign-in did not do what a browser expects."""


# --- Parsing helpers ---------------------------------------------------------------------------


def code_from_body(body: str) -> str | None:
    """The six-digit code after the final ``#`` of a text, or None."""
    found = SMS_CODE.search(body)
    return found.group(1) if found else None


def csrf_token(page: str) -> str:
    found = CSRF_INPUT.search(page)
    if found is None:
        raise SignInFailed("no CSRF token in the page")
    return html.unescape(found.group(1))


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class Outbox:
    """The outbox gateway's JSON lines, read incrementally: the codes texted to each number.

    Several gunicorn workers append whole lines; a line without its newline is still being
    written and is read on the next call.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._codes: dict[str, list[str]] = collections.defaultdict(list)
        self._lock = threading.Lock()

    def count(self, number: str) -> int:
        with self._lock:
            self._read()
            return len(self._codes[number])

    def code_after(self, number: str, seen: int, timeout: float = 5.0) -> str:
        """The newest code to ``number`` once more than ``seen`` texts went to it."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._read()
                codes = self._codes[number]
                if len(codes) > seen:
                    return codes[-1]
            if time.monotonic() > deadline:
                raise SignInFailed(f"no text to {number} within {timeout:.0f} s")
            time.sleep(0.002)

    def _read(self) -> None:
        try:
            with self.path.open("rb") as outbox:
                outbox.seek(self._offset)
                data = outbox.read()
        except FileNotFoundError:
            return
        complete = data.rpartition(b"\n")[0]
        if not complete:
            return
        self._offset += len(complete) + 1
        for line in complete.split(b"\n"):
            if line.strip():
                text = json.loads(line)
                code = code_from_body(text["body"])
                if code is not None:
                    self._codes[text["to"]].append(code)


# --- One sign-in -------------------------------------------------------------------------------


def _address(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _expect(response: requests.Response, path: str) -> None:
    if response.status_code != 200:
        raise SignInFailed(f"{response.request.method} led to HTTP {response.status_code}")
    if not response.url.endswith(path):
        raise SignInFailed(f"expected {path}, got {response.url}")


def sign_in(base_url: str, member: Member, outbox: Outbox, address_number: int) -> None:
    """One complete sign-in; raise :class:`SignInFailed` at the first step that went wrong."""
    with requests.Session() as browser:
        browser.trust_env = False  # 127.0.0.1 directly, whatever proxy the environment names
        browser.headers.update({"X-Forwarded-For": _address(address_number), "Origin": base_url})
        page = browser.get(f"{base_url}/accounts/login/", timeout=TIMEOUT)
        _expect(page, "/accounts/login/")
        seen = outbox.count(member.phone) if member.has_sms else 0
        form = {
            "login": member.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf_token(page.text),
        }
        page = browser.post(f"{base_url}/accounts/login/", data=form, timeout=TIMEOUT)
        if member.has_sms:
            _expect(page, "/accounts/2fa/")
            code = outbox.code_after(member.phone, seen)
            form = {"code": code, "csrfmiddlewaretoken": csrf_token(page.text)}
            page = browser.post(f"{base_url}/accounts/2fa/", data=form, timeout=TIMEOUT)
        _expect(page, "/")
        if f">{member.email}<" not in page.text:
            raise SignInFailed("the signed-in page does not name the member")


# --- Load --------------------------------------------------------------------------------------


class MemberPool:
    """Members handed out oldest-used first, never two threads on one member, and not again
    before ``rest`` seconds (the SMS resend cooldown counts across logins)."""

    def __init__(self, members: Iterable[Member], rest: float) -> None:
        self._ready: collections.deque[tuple[float, Member]] = collections.deque(
            (0.0, m) for m in members
        )
        self._rest = rest
        self._lock = threading.Lock()
        self._addresses = 0

    def take(self) -> tuple[Member, int]:
        while True:
            with self._lock:
                if self._ready:
                    ready_at, member = self._ready.popleft()
                    self._addresses += 1
                    wait = ready_at - time.monotonic()
                    if wait <= 0:
                        return member, self._addresses
                    self._ready.appendleft((ready_at, member))
                else:
                    wait = 0.01
            time.sleep(max(wait, 0.001))

    def give_back(self, member: Member) -> None:
        with self._lock:
            self._ready.append((time.monotonic() + self._rest, member))


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def run_load(
    base_url: str, pool: MemberPool, outbox: Outbox, concurrency: int, seconds: float
) -> LoadResult:
    """``concurrency`` browsers signing in back to back for ``seconds``; sign-ins started
    before the end are finished and counted."""
    result = LoadResult(concurrency=concurrency, seconds=seconds)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds

    def browse() -> None:
        while time.monotonic() < deadline:
            member, address = pool.take()
            began = time.monotonic()
            try:
                sign_in(base_url, member, outbox, address)
            except (SignInFailed, requests.RequestException) as error:
                with lock:
                    result.errors.append(f"{member.email}: {error}")
            else:
                with lock:
                    result.latencies.append(time.monotonic() - began)
            finally:
                pool.give_back(member)

    threads = [threading.Thread(target=browse) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result
