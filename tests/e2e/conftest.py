"""End-to-end actors: a real Twofold server run as an operator runs it, Chromium, the mailbox.

The server is ``python -m twofold.cli migrate`` then ``serve`` (gunicorn, 2 workers, SQLite and
file email under a fresh data directory) on a free port of 127.0.0.1. Chromium is Debian's,
driven by Playwright (TESTING.md); every page is screenshotted to ``test-artifacts/e2e/`` and a
test fails on any Content-Security-Policy violation, script error or server error.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright

from tests.conftest import require_or_skip
from tests.peers.harness import stop

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"

# /usr/lib/chromium/chromium skips the Debian wrapper script and its noise.
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-proxy-server",  # only ever 127.0.0.1, whatever the environment says
]

CSP_MARKERS = ("content security policy", "content-security-policy", "refused to")

SERVER_START_TIMEOUT = 30.0
MAIL_TIMEOUT = 10.0

# urllib without proxies: the health probe must reach 127.0.0.1 directly.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- The server --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwofoldServer:
    url: str
    data_dir: Path
    log: Path
    environ: dict[str, str] = field(repr=False)
    pid: int = 0  # of ``twofold serve`` (gunicorn's master)

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def cli(self, *args: str, input: str | None = None) -> str:
        """Run ``twofold <args>`` as the operator of this server; return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "twofold.cli", *args],
            env=self.environ,
            cwd=self.data_dir,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"twofold {' '.join(args)} failed:\n{done.stderr}"
        return done.stdout

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no server log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_environment(data_dir: Path, port: int) -> dict[str, str]:
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TWOFOLD_") and name != "DJANGO_SETTINGS_MODULE"
    }
    environ.update(
        TWOFOLD_DATA_DIR=str(data_dir),
        TWOFOLD_PORT=str(port),
        TWOFOLD_HOST="127.0.0.1",
        TWOFOLD_WORKERS="2",
        # Forward-auth's sign-in returns to apps behind nginx on this machine (any port).
        TWOFOLD_FORWARD_AUTH_HOSTS="127.0.0.1",
        # gunicorn's control socket defaults to ~/.gunicorn/gunicorn.ctl, shared by every
        # instance of the user: keep ours in the data dir so a developer's server is untouched.
        XDG_RUNTIME_DIR=str(data_dir),
    )
    return environ


def _healthy(url: str) -> bool:
    try:
        with _LOCAL.open(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def serve(
    data_dir: Path, port: int, *, own_group: bool = False, migrate: bool = True, **settings: str
) -> Iterator[TwofoldServer]:
    """``twofold migrate`` then ``twofold serve`` on ``port`` until the block ends; ``settings``
    are more ``TWOFOLD_*`` variables, named without the prefix (``GOOGLE_CLIENT_ID="..."``).
    ``own_group``: gunicorn and its workers in a process group of their own, whose id is the
    server's ``pid`` (a test kills the whole instance with ``os.killpg``); ``migrate=False``
    when the database was migrated already (a second instance on it)."""
    environ = _server_environment(data_dir, port)
    environ.update({f"TWOFOLD_{name}": value for name, value in settings.items()})
    server = TwofoldServer(
        url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        log=data_dir / "server.log",
        environ=environ,
    )
    cli = [sys.executable, "-m", "twofold.cli"]
    if migrate:
        subprocess.run(
            [*cli, "migrate", "--verbosity", "0"],
            env=environ,
            cwd=data_dir,
            check=True,
            timeout=120,
        )
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [*cli, "serve"],
            env=environ,
            cwd=data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    server = replace(server, pid=process.pid)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(server.url):
            if process.poll() is not None:
                pytest.fail(f"twofold serve exited with {process.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"twofold serve did not answer /healthz within {SERVER_START_TIMEOUT:.0f} s:"
                    f"\n{server.log_tail()}"
                )
            time.sleep(0.1)
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def twofold_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwofoldServer]:
    with serve(tmp_path_factory.mktemp("twofold-e2e"), _free_port()) as server:
        yield server


# --- The mailbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mailbox:
    """The messages the server wrote under ``mail_dir`` (config/mail.py: one ``.eml`` each,
    complete once it has its name)."""

    mail_dir: Path

    def messages(self) -> list[EmailMessage]:
        """Every message, oldest first."""
        found: list[tuple[int, str, EmailMessage]] = []
        for path in self.mail_dir.glob("*.eml") if self.mail_dir.exists() else ():
            try:
                data = path.read_bytes()
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            message = email.message_from_bytes(data, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append((mtime, path.name, message))
        found.sort(key=lambda item: item[:2])
        return [message for *_, message in found]

    def to(self, address: str) -> list[EmailMessage]:
        address = address.lower()
        return [
            m
            for m in self.messages()
            if any(a.addr_spec.lower() == address for a in getattr(m["To"], "addresses", ()))
        ]

    def latest_mail(self, to: str) -> EmailMessage:
        """The newest message to ``to``, waiting up to ``MAIL_TIMEOUT`` for the first one."""
        deadline = time.monotonic() + MAIL_TIMEOUT
        while True:
            received = self.to(to)
            if received:
                return received[-1]
            if time.monotonic() > deadline:
                pytest.fail(f"no email to {to} within {MAIL_TIMEOUT:.0f} s in {self.mail_dir}")
            time.sleep(0.1)

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text body, decoded (quoted-printable, base64, charset)."""
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, f"no text/plain part in {message['Subject']!r}"
        return str(part.get_content())


@pytest.fixture
def mailbox(twofold_server: TwofoldServer) -> Mailbox:
    return Mailbox(twofold_server.mail_dir)


# --- The browser -------------------------------------------------------------------------------


def _chromium() -> str | None:
    return next((p for p in CHROMIUM_PATHS if os.access(p, os.X_OK)), None)


@contextmanager
def chromium(*args: str) -> Iterator[Browser]:
    """Headless Chromium with ``CHROMIUM_ARGS`` and ``args`` until the block ends."""
    executable = _chromium()
    if executable is None:
        require_or_skip(f"Chromium is not installed (looked for {', '.join(CHROMIUM_PATHS)})")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *args]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module (a module scope: Playwright's sync API keeps an event loop
    on the main thread, which would make Django refuse ORM calls in later test modules)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``test-artifacts/e2e/``, emptied of the previous run's screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@dataclass
class Screens:
    """Numbered screenshots of a journey and what the browser complained about on the way."""

    page: Page
    directory: Path
    number: int = 0
    problems: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        # Chromium says "... violates the following Content Security Policy directive ...";
        # older builds "Refused to load/execute/apply ...".
        if any(marker in text.lower() for marker in CSP_MARKERS):
            self.problems.append(f"CSP violation on {self.page.url}: {text}")

    def _on_response(self, response: Response) -> None:
        # A failing page, stylesheet or icon is a broken screen even when the test goes on.
        if response.status >= 500 or (
            response.status >= 400 and response.request.resource_type != "document"
        ):
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def shot(self, name: str) -> Path:
        """Save ``<nn>-<name>.png`` of the whole page; fail on any problem seen so far."""
        self.number += 1
        path = self.directory / f"{self.number:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.check()
        return path

    def check(self) -> None:
        problems, self.problems = self.problems, []  # each complaint fails the test once
        if problems:
            pytest.fail("the browser reported:\n" + "\n".join(problems))


# Screenshots are numbered across the run (01, 02, ...) in the order the tests take them.
_screen_numbers = {"last": 0}


@pytest.fixture
def page(browser: Browser, twofold_server: TwofoldServer) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies) on the Twofold server."""
    context = browser.new_context(base_url=twofold_server.url)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screens(page: Page, screenshot_dir: Path, twofold_server: TwofoldServer) -> Iterator[Screens]:
    """Screenshots of ``page``; the test fails on the browser's or the server's complaints."""
    recorder = Screens(page, screenshot_dir, number=_screen_numbers["last"])
    recorder.watch()
    log_start = twofold_server.log.stat().st_size
    yield recorder
    _screen_numbers["last"] = recorder.number
    recorder.check()
    with twofold_server.log.open("rb") as log:
        log.seek(log_start)
        logged = log.read().decode(errors="replace")
    if "Traceback" in logged:
        pytest.fail(f"the server logged an exception during the test:\n{logged[-4000:]}")
