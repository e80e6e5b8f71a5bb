"""The identity provider's token endpoint under load (docs/performance.md): against the served
Twofold of ``make bench``, a registered application and one signed-in member.

- **Code flows**: ``GET /oauth/authorize/`` with the member's session (a code, PKCE S256), then
  ``POST /oauth/token/`` redeeming it: what a sign-in to an application costs Twofold.
- **Refresh grants**: ``POST /oauth/token/`` with ``grant_type=refresh_token``, each rotating
  the refresh token of its own family: the token endpoint alone.

Python threads on the same machine drive both (each request's answer read and checked).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the redirect is read
CONNECTIONS = 8


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str


@dataclass(frozen=True)
class Rate:
    name: str
    connections: int
    per_second: float
    errors: int


def register(environ: dict[str, str]) -> Client:
    """``twofold create-application``, as an operator registers the host product."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twofold.cli",
            "create-application",
            "--name",
            "Bench",
            "--redirect-uri",
            REDIRECT,
        ],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    client_id = re.search(r"client_id: (\S+)", done.stdout)
    secret = re.search(r"client_secret: (\S+)", done.stdout)
    if client_id is None or secret is None:
        sys.exit(f"twofold create-application printed no credentials:\n{done.stdout}")
    return Client(client_id.group(1), secret.group(1))


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _session(cookie: str) -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False
    browser.headers["Cookie"] = cookie
    return browser


def code_flow(url: str, client: Client, browser: requests.Session) -> dict[str, str] | None:
    """One authorization and its redemption; the token answer, or None on any error."""
    verifier, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = browser.get(
        f"{url}/oauth/authorize/?{urlencode(query)}", allow_redirects=False, timeout=30
    )
    code = parse_qs(urlsplit(answer.headers.get("Location", "")).query).get("code")
    if answer.status_code != 302 or not code:
        return None
    tokens = browser.post(
        f"{url}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": code[0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client.client_id, client.secret),
        timeout=30,
    )
    return dict(tokens.json()) if tokens.status_code == 200 else None


def _driven(name: str, seconds: float, work: Callable[[], Callable[[], bool]]) -> Rate:
    """``CONNECTIONS`` threads, each with its own state from ``work()``, for ``seconds``."""
    counts = [0, 0]  # ok, errors
    lock = threading.Lock()
    ready = threading.Barrier(CONNECTIONS + 1)
    deadline: list[float] = []

    def drive() -> None:
        try:
            step = work()
        except RuntimeError:
            step = _failing  # counted as errors: the run fails, it never hangs
        ready.wait()
        while time.monotonic() < deadline[0]:
            ok = step()
            with lock:
                counts[0 if ok else 1] += 1

    threads = [threading.Thread(target=drive) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    deadline.append(time.monotonic() + seconds)
    ready.wait()
    for thread in threads:
        thread.join()
    return Rate(name, CONNECTIONS, counts[0] / seconds, counts[1])


def _failing() -> bool:
    time.sleep(0.1)
    return False


def code_flows(url: str, client: Client, cookie: str, seconds: float) -> Rate:
    def work() -> Callable[[], bool]:
        browser = _session(cookie)
        return lambda: code_flow(url, client, browser) is not None

    return _driven("code flow (authorize + token)", seconds, work)


def refresh_grants(url: str, client: Client, cookie: str, seconds: float) -> Rate:
    def work() -> Callable[[], bool]:
        browser = _session(cookie)
        first = code_flow(url, client, browser)
        if first is None:
            raise RuntimeError("the code flow failed: no refresh token to drive")
        current = [first["refresh_token"]]

        def step() -> bool:
            answer = browser.post(
                f"{url}/oauth/token/",
                data={"grant_type": "refresh_token", "refresh_token": current[0]},
                auth=(client.client_id, client.secret),
                timeout=30,
            )
            if answer.status_code != 200:
                return False
            current[0] = answer.json()["refresh_token"]
            return True

        return step

    return _driven("POST /oauth/token/ (refresh grant)", seconds, work)


def table(rates: list[Rate], seconds: float) -> list[str]:
    lines = [
        f"Python driver, {rates[0].connections} threads, {seconds:.0f} s per run:",
        "",
        "| measured | per second | errors |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r.name} | {r.per_second:,.0f} | {r.errors} |" for r in rates]
    return lines
