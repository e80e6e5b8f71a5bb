"""Two Twofold instances behind a real nginx, on PostgreSQL + Redis, as an operator runs several
(docs/operations.md, "PostgreSQL and Redis (several instances)"): every sign-in step may land on
either instance, and one instance may die at any moment.

The module starts, once for all its tests (``cluster``):

- a fresh PostgreSQL database ``twofold_test_<random>`` (dropped at the end) and a Redis database
  number no one else uses (its keys deleted at the end);
- two ``twofold serve`` (gunicorn, 2 workers each) in production mode with the same secrets and
  the same SMS outbox file, each in a process group of its own (to kill a whole instance);
- Debian's nginx with its own configuration on loopback: TLS with a certificate ``openssl`` makes
  for the run, ``X-Forwarded-Proto``/``X-Forwarded-For``/``X-Request-ID`` set as
  docs/operations.md says, and round-robin over both instances with failover. A request with
  ``X-Test-Instance: a`` (or ``b``) goes to that instance only (nginx drops the header), so a
  test alternates instances deterministically; every answer says which instance gave it
  (``X-Test-Upstream``: nginx's ``$upstream_addr``, every instance tried).

It needs no Django test database: it runs once, in the SQLite pass (``make unit``), where the
browser tests run; without PostgreSQL, Redis, nginx or openssl it is skipped (without Chromium,
its browser test), and fails under ``TWOFOLD_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
import requests
from playwright.sync_api import Response, expect

from tests import services
from tests.conftest import PASSWORD, require_or_skip
from tests.e2e.conftest import REPO_ROOT, TwofoldServer, chromium, serve
from tests.e2e.test_two_factor_journey import SECOND_FACTOR, expect_signed_in, sign_in_with_password
from tests.peers.harness import free_port, running
from tests.peers.nginx import nginx_executable
from twofold.config import env
from twofold.factors.totp.codes import code_at, matching_step

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        os.environ.get("TWOFOLD_TEST_BACKEND") == "services",
        reason="starts its own PostgreSQL database and servers: runs once, in the SQLite pass",
    ),
]

HEADLESS = "/_allauth/browser/v1"
PIN = "X-Test-Instance"  # a or b: nginx sends the request to that instance only
UPSTREAM = "X-Test-Upstream"  # nginx's $upstream_addr: the instances tried, in order
CSRF_COOKIE = "__Host-twofold-csrf"  # production: https, __Host- cookies
SMS_TIMEOUT = 15.0
SEED = "import django; django.setup(); from tests.peers.instances_seed import main; main()"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "two-instances"
SMS_CODE = re.compile(r"#(\d{6})\s*$")

# Each test signs in members of its own: the 30 s SMS resend cooldown holds per member, across
# sign-ins. All sign-ins come from nginx's address, and allauth allows 30 a minute from one:
# the module makes 20.
KILL_RUN = 11
MEMBER_NAMES = (
    "administrator",
    "browser",
    "api",
    "replay",
    "race",
    "sessions",
    *(f"kill-{n}" for n in range(KILL_RUN)),
)


@dataclass(frozen=True)
class Member:
    email: str
    phone: str | None
    backup_codes: list[str] = field(default_factory=list)
    totp_secret: str | None = None


# --- The SMS outbox both instances write to ------------------------------------------------------


@dataclass(frozen=True)
class Outbox:
    path: Path

    def texts(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").split("\n")[:-1]  # the last: being written
        return [json.loads(line) for line in lines if line.strip()]

    def count(self) -> int:
        return len(self.texts())

    def code(self, phone: str, *, after: int) -> str:
        """The code of the newest text to ``phone`` among those after the first ``after``."""
        deadline = time.monotonic() + SMS_TIMEOUT
        while True:
            new = [text for text in self.texts()[after:] if text["to"] == phone]
            if new:
                found = SMS_CODE.search(new[-1]["body"])
                assert found, new[-1]["body"]
                return found.group(1)
            if time.monotonic() > deadline:
                pytest.fail(f"no text to {phone} within {SMS_TIMEOUT:.0f} s in {self.path}")
            time.sleep(0.05)


# --- The two instances behind nginx --------------------------------------------------------------


@dataclass
class Cluster:
    url: str  # nginx: the public URL
    certificate: Path  # nginx's, for clients to verify it
    a: TwofoldServer
    b: TwofoldServer
    outbox: Outbox
    members: dict[str, Member]
    nginx_dir: Path

    def instance(self, answer: requests.Response | Any) -> str:
        """Which instance gave ``answer`` ("a", "b"), from the last address nginx tried."""
        headers = answer.headers  # Playwright's names are in lower case
        tried = str(headers.get(UPSTREAM) or headers.get(UPSTREAM.lower()) or "")
        last = tried.split(",")[-1].strip()
        return {_address(self.a): "a", _address(self.b): "b"}.get(last, f"? ({tried!r})")

    def kill(self, name: str) -> None:
        """SIGKILL to the instance's gunicorn and every worker: its process group."""
        server = {"a": self.a, "b": self.b}[name]
        os.killpg(server.pid, signal.SIGKILL)


def _address(server: TwofoldServer) -> str:
    return urlsplit(server.url).netloc


def nginx_config(*, directory: Path, port: int, ready_port: int, a: str, b: str) -> str:
    """nginx as docs/operations.md ("Behind a reverse proxy") asks, over two instances."""
    return f"""\
daemon off;
master_process off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$request_method $request_uri $status $upstream_addr $upstream_status';
    access_log {directory}/access.log upstreams;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;

    # No keepalive to the instances: a request goes on a new connection, which a dead
    # instance refuses at once, so nginx passes even a POST to the other (proxy_next_upstream).
    upstream twofold {{
        server {a} max_fails=1 fail_timeout=30s;
        server {b} max_fails=1 fail_timeout=30s;
    }}
    upstream twofold_a {{ server {a}; }}
    upstream twofold_b {{ server {b}; }}
    map $http_x_test_instance $twofold_upstream {{
        default twofold;
        a twofold_a;
        b twofold_b;
    }}

    server {{
        listen 127.0.0.1:{ready_port};
        location = /nginx-ready {{ return 200; }}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {directory}/cert.pem;
        ssl_certificate_key {directory}/key.pem;

        location / {{
            proxy_pass http://$twofold_upstream;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Test-Instance "";
            add_header X-Test-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def _certificate(directory: Path) -> None:
    """A self-signed certificate for 127.0.0.1, for the run."""
    openssl = shutil.which("openssl")
    if openssl is None:
        require_or_skip("openssl is not installed: nginx's TLS certificate is made with it")
    subprocess.run(
        [
            str(openssl), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-sha256", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip


@contextmanager
def fresh_database() -> Iterator[str]:
    """``twofold_test_<random>`` on the tests' PostgreSQL server, dropped at the end."""
    name = f"twofold_test_{secrets.token_hex(4)}"
    with psycopg.connect(f"{services.POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{services.POSTGRES_URL}/{name}"
    finally:
        with psycopg.connect(f"{services.POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_redis_database() -> Iterator[str]:
    """An empty Redis database (1 to 15; the suite's own runs use 0 with a prefix of their
    own); the instances' keys (prefix ``twofold``) are deleted from it at the end."""
    base = urlsplit(services.REDIS_URL)
    candidates = list(range(1, 16))
    secrets.SystemRandom().shuffle(candidates)
    for number in candidates:
        url = f"{base.scheme}://{base.netloc}/{number}"
        client = redis.Redis.from_url(url)
        if client.dbsize() == 0:
            break
        client.close()
    else:
        pytest.fail(f"no empty Redis database on {base.netloc} (1 to 15 all hold keys)")
    try:
        yield url
    finally:
        keys = list(client.scan_iter(match="twofold:*"))
        if keys:
            client.delete(*keys)
        client.close()


def operator(data_dir: Path, settings: dict[str, str], *args: str, **options: Any) -> str:
    """``python -m twofold.cli <args>`` (or ``python <args>``) in the instances' environment."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TWOFOLD_") and name != "DJANGO_SETTINGS_MODULE"
    }
    environ.update({f"TWOFOLD_{name}": value for name, value in settings.items()})
    environ.update(TWOFOLD_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO_ROOT))
    environ["DJANGO_SETTINGS_MODULE"] = "twofold.config.settings"
    command = [sys.executable, *(args if args[0] == "-c" else ("-m", "twofold.cli", *args))]
    done = subprocess.run(
        command, env=environ, cwd=data_dir, capture_output=True, text=True, timeout=180, **options
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stderr}"
    return done.stdout


def seed(data_dir: Path, settings: dict[str, str]) -> dict[str, Member]:
    """The members, written into the database (tests/peers/instances_seed.py)."""
    wanted: list[dict[str, Any]] = []
    for number, name in enumerate(MEMBER_NAMES):
        wanted.append({"email": f"{name}@instances.test", "phone": f"+4179555{number:04d}"})
    wanted.append({"email": "app@instances.test", "phone": None, "totp": True})
    made = json.loads(operator(data_dir, settings, "-c", SEED, input=json.dumps(wanted)))
    members = {}
    for person in wanted:
        name = person["email"].split("@")[0]
        members[name] = Member(person["email"], person["phone"], **made[person["email"]])
    return members


def together(*starts: Callable[[], Any]) -> list[Any]:
    """Run ``starts`` at the same time, each in a thread (each is mostly a wait for a process
    starting); their results in order, or the first one's error raised here."""
    results: list[Any] = [None] * len(starts)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = starts[index]()
        except BaseException as error:  # pytest.fail's too
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(starts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    problems = services.missing()
    if problems:
        require_or_skip("; ".join(problems))
    nginx = nginx_executable()
    base = tmp_path_factory.mktemp("two-instances")
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="nginx-") as folder:
        nginx_dir = Path(folder)
        _certificate(nginx_dir)
        database = stack.enter_context(fresh_database())
        redis_url = stack.enter_context(fresh_redis_database())
        port, ready_port = free_port(), free_port()
        url = f"https://127.0.0.1:{port}"
        outbox = Outbox(base / "sms-outbox.jsonl")
        # What every instance shares (docs/operations.md): secrets, database, Redis; and, here,
        # the SMS outbox, where the tests read the codes whichever instance texted them.
        shared = {
            "MODE": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FACTOR_KEY": env.new_factor_key(),
            "OIDC_PRIVATE_KEY": env.new_private_key(),
            "PUBLIC_URL": url,
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "TRUSTED_PROXY_COUNT": "1",
            "SMS_GATEWAYS": "outbox",
            "SMS_OUTBOX": str(outbox.path),
        }
        for name in ("a", "b", "operator"):
            (base / name).mkdir()
        # Migrated once (each instance could: concurrent runs wait for each other's lock), then
        # both instances start while the members are written.
        operator(base / "operator", shared, "migrate", "--verbosity", "0")

        def start(name: str) -> TwofoldServer:
            server = serve(base / name, free_port(), own_group=True, migrate=False, **shared)
            return stack.enter_context(server)

        a, b, members = together(
            lambda: start("a"), lambda: start("b"), lambda: seed(base / "operator", shared)
        )
        config = nginx_config(
            directory=nginx_dir, port=port, ready_port=ready_port, a=_address(a), b=_address(b)
        )
        (nginx_dir / "nginx.conf").write_text(config)
        command = [
            nginx, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf"),
            "-e", str(nginx_dir / "error.log"),
        ]  # fmt: skip
        ready = f"http://127.0.0.1:{ready_port}/nginx-ready"
        stack.enter_context(running("nginx", command, cwd=nginx_dir, ready_url=ready, env={}))
        yield Cluster(url, nginx_dir / "cert.pem", a, b, outbox, members, nginx_dir)
        for server in (a, b):
            logged = server.log.read_text(errors="replace")
            if "Traceback" in logged:
                pytest.fail(f"{server.url} logged an exception:\n{logged[-4000:]}")


# --- A member's browser, through nginx -----------------------------------------------------------


class Visitor:
    """A cookie-keeping HTTP client calling Twofold's browser API through nginx as its pages do
    (``X-CSRFToken`` from the cookie, ``Origin`` of the public URL), each request sent to the
    instance ``on`` names, or to whichever nginx picks."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.http = requests.Session()
        self.http.trust_env = False  # 127.0.0.1 only, whatever the environment says
        self.http.verify = str(cluster.certificate)
        self.http.headers["Origin"] = cluster.url

    def copy(self) -> Visitor:
        """Another client with this one's cookies: the same session, sent twice."""
        twin = Visitor(self.cluster)
        twin.http.cookies.update(self.http.cookies.copy())
        return twin

    def send(self, verb: str, path: str, /, *, on: str | None = None, **body: Any) -> Any:
        pin = {PIN: on} if on else {}
        if CSRF_COOKIE not in self.http.cookies:
            self.http.get(f"{self.cluster.url}{HEADLESS}/config", headers=pin, timeout=30)
        headers = {**pin, "X-CSRFToken": self.http.cookies.get(CSRF_COOKIE, "")}
        url = f"{self.cluster.url}{path}"
        return self.http.request(
            verb, url, json=body or None, headers=headers, timeout=30, allow_redirects=False
        )

    def call(
        self, verb: str, path: str, status: int, /, *, on: str | None = None, **body: Any
    ) -> Any:
        answer = self.send(verb, path, on=on, **body)
        assert answer.status_code == status, f"{verb} {path}: {answer.status_code} {answer.text}"
        if on:
            assert self.cluster.instance(answer) == on, answer.headers
        return answer.json() if answer.content else None

    def who(self, *, on: str | None = None) -> str | None:
        """The email ``GET /api/v1/me`` answers (the host application's check), or None (401)."""
        answer = self.send("GET", "/api/v1/me", on=on)
        if on:
            assert self.cluster.instance(answer) == on, answer.headers
        if answer.status_code == 401:
            return None
        assert answer.status_code == 200, answer.text
        return str(answer.json()["data"]["user"]["email"])

    def home(self, *, on: str) -> int:
        """``GET /`` through the whole stack: 200 signed in, 302 to the sign-in page if not."""
        answer = self.send("GET", "/", on=on)
        assert self.cluster.instance(answer) == on, answer.headers
        return int(answer.status_code)

    # The sign-in, one step at a time.

    def password(self, member: Member, *, on: str | None = None) -> int:
        """The password: 401 with the second factor pending. Returns the outbox's length before
        it, where the code's text will follow."""
        mark = self.cluster.outbox.count()
        login = {"email": member.email, "password": PASSWORD}
        flows = self.call("POST", f"{HEADLESS}/auth/login", 401, on=on, **login)["data"]["flows"]
        assert {"id": "twofold_second_factor", "is_pending": True} in flows, flows
        return mark

    def sms_code(self, code: str, *, on: str | None = None) -> Any:
        return self.send("POST", f"{HEADLESS}/auth/2fa/sms", on=on, code=code)

    def app_code(self, code: str, *, on: str | None = None) -> Any:
        return self.send("POST", f"{HEADLESS}/auth/2fa/verify", on=on, method="totp", code=code)


@pytest.fixture
def visitors(cluster: Cluster) -> Iterator[Callable[[], Visitor]]:
    made: list[Visitor] = []

    def new() -> Visitor:
        made.append(Visitor(cluster))
        return made[-1]

    yield new
    for visitor in made:
        visitor.http.close()


def at_once(*sends: Callable[[], Any]) -> list[Any]:
    """Run ``sends`` in threads released together; their answers, in order."""
    barrier = threading.Barrier(len(sends))
    answers: list[Any] = [None] * len(sends)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = sends[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def other(instance: str) -> str:
    return {"a": "b", "b": "a"}[instance]


# --- (a) A browser --------------------------------------------------------------------------------


@pytest.mark.browser
def test_a_browser_signs_in_with_the_password_on_one_instance_and_the_code_on_the_other(
    cluster: Cluster,
) -> None:
    """Chromium: the password on A, the texted code on B, the signed-in page on A."""
    member = cluster.members["browser"]
    assert member.phone
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    pages: list[tuple[str, str, str]] = []  # (method, path, instance) of every document
    with chromium() as browser:
        context = browser.new_context(base_url=cluster.url, ignore_https_errors=True)
        context.set_default_timeout(15_000)
        page = context.new_page()

        def served(response: Response) -> None:
            if response.request.resource_type == "document":
                where = cluster.instance(response)
                pages.append((response.request.method, urlsplit(response.url).path, where))

        page.on("response", served)
        try:
            context.set_extra_http_headers({PIN: "a"})
            mark = cluster.outbox.count()
            sign_in_with_password(page, member.email)
            expect(page).to_have_url(SECOND_FACTOR)
            page.screenshot(path=str(ARTIFACTS / "01-code-asked-by-a.png"), full_page=True)

            context.set_extra_http_headers({PIN: "b"})
            page.get_by_label("Verification code").fill(
                cluster.outbox.code(member.phone, after=mark)
            )
            page.get_by_role("button", name="Verify and sign in").click()
            expect_signed_in(page, cluster.url, member.email)
            page.screenshot(path=str(ARTIFACTS / "02-signed-in-by-b.png"), full_page=True)

            context.set_extra_http_headers({PIN: "a"})
            page.goto("/")
            expect_signed_in(page, cluster.url, member.email)
            page.screenshot(path=str(ARTIFACTS / "03-signed-in-on-a.png"), full_page=True)
        finally:
            context.close()
    assert ("POST", "/accounts/login/", "a") in pages, pages
    assert ("POST", "/accounts/2fa/", "b") in pages, pages
    assert pages[-1] == ("GET", "/", "a"), pages


# --- (b) The JSON API -----------------------------------------------------------------------------


def test_the_api_signs_in_with_the_password_on_one_instance_and_the_code_on_the_other(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    member = cluster.members["api"]
    assert member.phone
    browser = visitors()
    mark = browser.password(member, on="a")
    code = cluster.outbox.code(member.phone, after=mark)
    answer = browser.sms_code(code, on="b")
    assert answer.status_code == 200, answer.text
    assert cluster.instance(answer) == "b"
    assert browser.who(on="a") == member.email
    assert browser.who(on="b") == member.email


# --- (c) A code is accepted once, whichever instance sees it -------------------------------------


def test_an_sms_code_accepted_on_one_instance_is_refused_on_the_other(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    """The code's request sent again with the same session (a proxy or client retrying it, or
    someone who captured it): after A accepted it, B refuses it and signs nobody in."""
    member = cluster.members["replay"]
    assert member.phone
    browser = visitors()
    mark = browser.password(member, on="a")
    replayer = browser.copy()
    code = cluster.outbox.code(member.phone, after=mark)
    accepted = browser.sms_code(code, on="a")
    assert accepted.status_code == 200, accepted.text

    replayed = replayer.sms_code(code, on="b")
    assert cluster.instance(replayed) == "b"
    assert replayed.status_code != 200, replayed.text
    assert replayer.who(on="b") is None
    assert replayer.who(on="a") is None
    assert browser.who(on="b") == member.email


def test_of_one_sms_code_sent_to_both_instances_at_once_only_one_signs_in(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    member = cluster.members["race"]
    assert member.phone
    browser = visitors()
    mark = browser.password(member, on="b")
    twin = browser.copy()
    code = cluster.outbox.code(member.phone, after=mark)

    on_a, on_b = at_once(
        lambda: browser.sms_code(code, on="a"), lambda: twin.sms_code(code, on="b")
    )

    statuses = [on_a.status_code, on_b.status_code]
    assert statuses.count(200) == 1, [on_a.text, on_b.text]
    winner, loser = (browser, twin) if on_a.status_code == 200 else (twin, browser)
    assert (winner.who(on="a"), winner.who(on="b")) == (member.email, member.email)
    assert (loser.who(on="a"), loser.who(on="b")) == (None, None)


def test_an_app_code_accepted_on_one_instance_is_refused_on_the_other(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    """Three sign-ins of a member whose second factor is an authenticator app, each with its
    own session: one code (RFC 6238 5.2: accepted once) sent by two at the same moment to A
    and B signs in one of them; sent again by the third, to the other instance, it is refused."""
    member = cluster.members["app"]
    assert member.totp_secret
    first, second, third = visitors(), visitors(), visitors()
    for browser, on in ((first, "a"), (second, "b"), (third, "a")):
        browser.password(member, on=on)
    # Valid for this time step and the next (MFA_TOTP_TOLERANCE = 1): 30 s at least.
    code = code_at(member.totp_secret, datetime.now(UTC))

    on_a, on_b = at_once(
        lambda: first.app_code(code, on="a"), lambda: second.app_code(code, on="b")
    )

    assert [on_a.status_code, on_b.status_code].count(200) == 1, [on_a.text, on_b.text]
    accepted_by = "a" if on_a.status_code == 200 else "b"
    winner, loser = (first, second) if accepted_by == "a" else (second, first)
    assert winner.who(on=other(accepted_by)) == member.email
    assert (loser.who(on="a"), loser.who(on="b")) == (None, None)

    replayed = third.app_code(code, on=other(accepted_by))
    assert replayed.status_code == 400, replayed.text
    assert (third.who(on="a"), third.who(on="b")) == (None, None)
    # Refused as a replay: the app would still show this code (the step, or the one after).
    assert matching_step(member.totp_secret, code, datetime.now(UTC)) is not None


# --- (d) Signing out the other sessions -----------------------------------------------------------


def test_signing_out_the_other_sessions_on_one_instance_ends_them_on_both(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    member = cluster.members["sessions"]
    assert member.phone
    laptop, phone = visitors(), visitors()
    mark = laptop.password(member, on="a")
    answer = laptop.sms_code(cluster.outbox.code(member.phone, after=mark), on="b")
    assert answer.status_code == 200, answer.text
    # The resend cooldown holds across sign-ins: the second one uses a backup code.
    phone.password(member, on="b")
    backup = {"code": member.backup_codes[0]}
    phone.call("POST", f"{HEADLESS}/auth/2fa/backup-code", 200, on="a", **backup)
    # Both instances have read both sessions (Redis and each process hold them warm).
    for on in ("a", "b"):
        assert (laptop.who(on=on), phone.who(on=on)) == (member.email, member.email)
        assert (laptop.home(on=on), phone.home(on=on)) == (200, 200)

    ended = laptop.call("DELETE", "/api/v1/sessions/others", 200, on="a")["data"]["ended"]

    assert ended == 1
    for on in ("a", "b"):
        assert phone.who(on=on) is None, f"the ended session still answers on {on}"
        assert phone.home(on=on) == 302
        assert laptop.who(on=on) == member.email
        assert laptop.home(on=on) == 200


# --- (e) An instance killed mid-run --------------------------------------------------------------


@dataclass
class SignIn:
    """One member's sign-in through nginx, and how it went."""

    member: Member
    browser: Visitor
    completed: bool = False
    error: str = ""
    steps: list[str] = field(default_factory=list)  # the instance of each answer

    def password(self, *, on: str | None = None) -> int:
        return self.browser.password(self.member, on=on)

    def code(self, mark: int, *, on: str | None = None) -> None:
        assert self.member.phone
        code = self.browser.cluster.outbox.code(self.member.phone, after=mark)
        answer = self.browser.sms_code(code, on=on)
        self.steps.append(self.browser.cluster.instance(answer))
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
        self.completed = True

    def whole(self, started: threading.Event | None = None) -> None:
        """Password then code, through nginx's rotation; failures kept, not raised."""
        try:
            mark = self.password()
            if started is not None:
                started.set()
            self.code(mark)
        except (AssertionError, requests.RequestException, pytest.fail.Exception) as error:
            self.error = str(error)[:300]


def test_an_instance_killed_mid_run_loses_no_completed_sign_in(
    cluster: Cluster, visitors: Callable[[], Visitor]
) -> None:
    """B is killed (SIGKILL to its gunicorn and workers) while sign-ins are under way: every
    sign-in that completed, on either instance, is still signed in on A; sign-ins whose password
    B checked finish on A; new ones go to A through nginx's failover.

    Runs last in the module: B stays dead."""
    kill_run = [cluster.members[f"kill-{n}"] for n in range(KILL_RUN)]
    sign_ins = [SignIn(member, visitors()) for member in kill_run]
    done_before, pending, racing, after = (
        sign_ins[:3], sign_ins[3:6], sign_ins[6:9], sign_ins[9:],
    )  # fmt: skip

    # Completed before the kill, each session made by the instance that checked the code.
    for sign_in, (password_on, code_on) in zip(done_before, ("ab", "bb", "ba"), strict=True):
        sign_in.code(sign_in.password(on=password_on), on=code_on)
    assert [s.steps for s in done_before] == [["b"], ["b"], ["a"]]
    # Pending at the kill: the password checked (on B, A, wherever), the code not yet sent.
    marks = [s.password(on=on) for s, on in zip(pending, ("b", "a", None), strict=True)]

    # In flight when the kill lands: whole sign-ins through nginx's rotation.
    started = threading.Event()
    threads = [threading.Thread(target=s.whole, args=(started,)) for s in racing]
    for thread in threads:
        thread.start()
    assert started.wait(timeout=60), [s.error for s in racing]
    cluster.kill("b")
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    # The pending sign-ins finish through nginx: on A, which B's dead connections send them to.
    for sign_in, mark in zip(pending, marks, strict=True):
        sign_in.code(mark)
        assert sign_in.steps == ["a"]
    # New sign-ins complete on A.
    for sign_in in after:
        sign_in.whole()
        assert sign_in.completed, sign_in.error
        assert sign_in.steps == ["a"]

    completed = [s for s in sign_ins if s.completed]
    assert len(completed) >= len(done_before) + len(pending) + len(after)
    for sign_in in completed:
        assert sign_in.browser.who(on="a") == sign_in.member.email, sign_in.steps
        assert sign_in.browser.who() == sign_in.member.email  # through nginx, B dead
    for sign_in in racing:  # interrupted ones were refused, or never got their answer
        assert sign_in.completed or sign_in.error
