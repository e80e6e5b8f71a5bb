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
import http.client
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.population import PASSWORD, Member

# The last line of every text is "@<host> #<code>" (WebOTP domain-bound code).
SMS_CODE = re.compile(r"#(\d{6})\s*$")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
TIMEOUT = 30.0
MAX_REDIRECTS = 5


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


# Errors a sign-in can end with: a step that went wrong, or the connection.
FAILURES = (SignInFailed, OSError, http.client.HTTPException)


@dataclass
class Page:
    status: int
    path: str
    text: str


class Browser:
    """What a browser does for a sign-in, on one kept-alive connection: cookies sent back,
    redirects followed (as GET), fixed headers on every request.

    ``http.client`` rather than ``requests``: the driver shares the 2 cores with the server,
    and ``requests`` spent about 1 ms of CPU per request (3-5 ms per sign-in).
    """

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=TIMEOUT)
        self._headers = headers
        self.cookies: dict[str, str] = {}

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.close()

    def get(self, path: str) -> Page:
        return self._follow("GET", path, None)

    def post(self, path: str, form: dict[str, str]) -> Page:
        return self._follow("POST", path, urlencode(form))

    def _follow(self, method: str, path: str, body: str | None) -> Page:
        for _ in range(MAX_REDIRECTS + 1):
            headers = dict(self._headers)
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            self._connection.request(method, path, body, headers)
            response = self._connection.getresponse()
            text = response.read().decode()
            self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
            if response.status not in (301, 302, 303):
                return Page(response.status, path, text)
            method, path, body = "GET", urlsplit(response.headers["Location"]).path, None
        raise SignInFailed(f"more than {MAX_REDIRECTS} redirects")

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            if "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()


def _expect(page: Page, path: str) -> None:
    if page.status != 200:
        raise SignInFailed(f"{path} answered HTTP {page.status}")
    if page.path != path:
        raise SignInFailed(f"expected {path}, got {page.path}")


def sign_in(base_url: str, member: Member, outbox: Outbox, address_number: int) -> None:
    """One complete sign-in; raise :class:`SignInFailed` at the first step that went wrong."""
    headers = {"X-Forwarded-For": _address(address_number), "Origin": base_url}
    with Browser(base_url, headers) as browser:
        page = browser.get("/accounts/login/")
        _expect(page, "/accounts/login/")
        seen = outbox.count(member.phone) if member.has_sms else 0
        form = {
            "login": member.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf_token(page.text),
        }
        page = browser.post("/accounts/login/", form)
        if member.has_sms:
            _expect(page, "/accounts/2fa/")
            code = outbox.code_after(member.phone, seen)
            form = {"code": code, "csrfmiddlewaretoken": csrf_token(page.text)}
            page = browser.post("/accounts/2fa/", form)
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
    # CPU of this process (every thread) during the run: the load driver shares the machine.
    driver_cpu: float = 0.0

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
    cpu_started = time.process_time()
    deadline = started + seconds

    def browse() -> None:
        while time.monotonic() < deadline:
            member, address = pool.take()
            began = time.monotonic()
            try:
                sign_in(base_url, member, outbox, address)
            except FAILURES as error:
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
    result.driver_cpu = time.process_time() - cpu_started
    return result
