"""The served Twofold as the relying-party tests meet it (tests/peers/test_relying_parties.py):
its account, administered through the JSON API, members invited and enrolled in SMS two-factor
authentication, and a member's browser, a ``requests`` session that follows redirects and answers
what Twofold asks on the way (the sign-in, a second factor, the password, the logout
confirmation) as the member would, through the headless API, with codes read from the SMS outbox.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

from joserfc.jwk import KeySet

from tests.conftest import PASSWORD
from tests.e2e.conftest import Mailbox, TwofoldServer, serve
from tests.e2e.test_two_factor_journey import SmsOutbox
from tests.peers.harness import free_port, get, local_browser

ADMINISTRATOR = "ada@relying-party.test"
SIGN_IN_PAGE = "/accounts/login/"
SECOND_FACTOR_PAGE = "/accounts/2fa/reauthenticate/"
PASSWORD_PAGE = "/accounts/reauthenticate/"
LOGOUT_PAGE = "/oauth/logout/"
HEADLESS = "/_allauth/browser/v1"
INVITATION_LINK = re.compile(r"/invitations/([\w-]+)/")


@dataclass(frozen=True)
class Member:
    email: str
    phone: str


class Browser:
    """A cookie-keeping browser on 127.0.0.1 that calls Twofold's browser API as its pages do
    (the CSRF cookie's value in ``X-CSRFToken``, read anew: it changes at sign-in)."""

    def __init__(self, twofold: Twofold, member: Member | None = None) -> None:
        self.twofold, self.member = twofold, member
        self.http = local_browser()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def api(self, method: str, path: str, **body: Any) -> Any:
        if "twofold-csrf" not in self.http.cookies:
            self.http.get(f"{self.twofold.url}{HEADLESS}/config", timeout=10)
        headers = {"X-CSRFToken": self.http.cookies.get("twofold-csrf", "")}
        url = f"{self.twofold.url}{path}"
        return self.http.request(method, url, json=body or None, headers=headers, timeout=10)

    def call(self, method: str, path: str, status: int, **body: Any) -> Any:
        answer = self.api(method, path, **body)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    @property
    def signed_in_to_twofold(self) -> bool:
        return bool(self.api("GET", "/api/v1/me").status_code == 200)

    # What Twofold asks on the way, answered as the member would; each gives the next address.

    def sign_in(self, url: str, page: Any) -> str:
        """The password, then the code texted for this sign-in."""
        member = self._member()
        self.twofold.outbox.mark()
        login = {"email": member.email, "password": PASSWORD}
        flows = self.call("POST", f"{HEADLESS}/auth/login", 401, **login)["data"]["flows"]
        assert {"id": "twofold_second_factor", "is_pending": True} in flows, flows
        code = self.twofold.outbox.next_code(member.phone)
        self.call("POST", f"{HEADLESS}/auth/2fa/sms", 200, code=code)
        return _next(url)

    def confirm_second_factor(self, url: str, page: Any) -> str:
        """Twofold's second-factor re-authentication: a new code texted, and typed."""
        self.twofold.outbox.mark()
        self.call("POST", f"{HEADLESS}/auth/2fa/reauthenticate", 202)
        code = self.twofold.outbox.next_code(self._member().phone)
        self.call("POST", f"{HEADLESS}/auth/2fa/reauthenticate", 200, code=code)
        return _next(url)

    def confirm_password(self, url: str, page: Any) -> str:
        self.call("POST", f"{HEADLESS}/auth/reauthenticate", 200, password=PASSWORD)
        return _next(url)

    def confirm_logout(self, url: str, page: Any) -> str:
        """The end-session endpoint's "Confirm Logout" form, submitted with its Logout button."""
        form = _LogoutForm()
        form.feed(page.text)
        confirmed = {**form.fields, "allow": "Logout"}
        done = self.http.post(url, data=confirmed, allow_redirects=False, timeout=10)
        assert done.is_redirect, f"{done.status_code}: {done.text[:500]}"
        return urljoin(url, done.headers["location"])

    def _member(self) -> Member:
        assert self.member is not None, "this browser signs in no member"
        return self.member

    def follow(self, url: str, *, stop_at: str | None = None) -> Journey:
        """Follow the redirects from ``url``, answering what Twofold asks on the way, until a
        page that is not a redirect, or a redirect to ``stop_at``."""
        journey = Journey()
        for _ in range(20):
            if stop_at and url.startswith(stop_at):
                journey.visited.append(url)
                return journey
            answer = self.http.get(url, allow_redirects=False, timeout=10)
            journey.visited.append(url)
            if answer.is_redirect:
                url = urljoin(url, answer.headers["location"])
                continue
            question = self._question(url, answer)
            if question is None:
                journey.response = answer
                return journey
            journey.asked.append(question)
            journey.asked_at.append(len(journey.visited) - 1)
            url = self._answers[question](self, url, answer)
        raise AssertionError(f"no end to the redirects: {journey.visited}")

    _answers: ClassVar[dict[str, Callable[[Browser, str, Any], str]]] = {
        "sign-in": sign_in,
        "second factor": confirm_second_factor,
        "password": confirm_password,
        "logout": confirm_logout,
    }

    def _question(self, url: str, page: Any) -> str | None:
        if not url.startswith(self.twofold.url):
            return None
        path = urlsplit(url).path
        if path == LOGOUT_PAGE and page.status_code == 200 and "authorizationForm" in page.text:
            return "logout"
        pages = {SIGN_IN_PAGE: "sign-in", SECOND_FACTOR_PAGE: "second factor"}
        return {**pages, PASSWORD_PAGE: "password"}.get(path)


def _next(url: str) -> str:
    """Where a sign-in or re-authentication page sends the browser back to."""
    return urljoin(url, parse_qs(urlsplit(url).query)["next"][0])


class _LogoutForm(HTMLParser):
    """The hidden fields of the logout confirmation (``csrfmiddlewaretoken`` among them)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


@dataclass
class Journey:
    """Where the browser went, what Twofold asked of it on the way, and the last answer."""

    visited: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    asked_at: list[int] = field(default_factory=list)  # where in ``visited``
    response: Any = None

    def first(self, prefix: str) -> str:
        return next(url for url in self.visited if url.startswith(prefix))

    def answer(self) -> dict[str, Any]:
        """The JSON the journey ended on (the relying party's), which must be a 200."""
        last = self.response
        assert last.status_code == 200, f"{last.url}: {last.status_code} {last.text}"
        return dict(last.json())


@dataclass
class Twofold:
    """The served Twofold, its outboxes, and the administrator of the account whose members
    sign in to the applications."""

    server: TwofoldServer
    outbox: SmsOutbox
    mailbox: Mailbox
    administrator: Browser | None = None
    account_id: str = ""
    members: Iterator[int] = field(default_factory=lambda: itertools.count(10))

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def issuer(self) -> str:
        return f"{self.url}/oauth"

    def discovery(self) -> dict[str, Any]:
        found = get(f"{self.issuer}/.well-known/openid-configuration")
        found.raise_for_status()
        return dict(found.json())

    def keys(self) -> KeySet:
        found = get(self.discovery()["jwks_uri"])
        return KeySet.import_key_set(found.json())

    def userinfo(self, access_token: str) -> int:
        """The user-info endpoint's status for ``access_token``: 200, or 401 once it ended."""
        bearer = {"Authorization": f"Bearer {access_token}"}
        found = get(self.discovery()["userinfo_endpoint"], headers=bearer)
        return int(found.status_code)

    def register(self, name: str, redirect_uri: str, *options: str) -> tuple[str, str | None]:
        """``twofold create-application`` for the account: (client_id, client_secret)."""
        printed = self.server.cli(
            "create-application", "--name", name, "--redirect-uri", redirect_uri,
            "--account", self.account_id, *options,
        )  # fmt: skip
        values = dict(line.split(": ", 1) for line in printed.splitlines() if ": " in line)
        return values["client_id"], values.get("client_secret")

    def new_member(self) -> Member:
        """A member invited by the administrator, who accepts and turns SMS 2FA on (JSON API).

        One per test: the 30 s resend cooldown holds per member, across sign-ins. Each signs in
        twice (here, then in the test), and allauth allows 30 sign-ins a minute from one address."""
        number = next(self.members)
        member = Member(f"member{number}@relying-party.test", f"+41791234{number:03d}")
        assert self.administrator is not None
        self.administrator.call("POST", "/api/v1/invitations", 201, email=member.email)
        link = INVITATION_LINK.search(self.mailbox.text(self.mailbox.latest_mail(member.email)))
        assert link is not None
        accept = {"token": link.group(1), "password": PASSWORD}
        with Browser(self) as browser:
            browser.call("POST", "/api/v1/invitations/accept", 201, **accept)
            enroll_sms(browser, member)
        return member


def enroll_sms(browser: Browser, member: Member) -> None:
    """``member`` signs in with the password and turns SMS two-factor authentication on."""
    login = {"email": member.email, "password": PASSWORD}
    browser.call("POST", f"{HEADLESS}/auth/login", 200, **login)
    browser.twofold.outbox.mark()
    browser.call("POST", "/api/v1/two-factor/sms", 202, phone=member.phone)
    code = browser.twofold.outbox.next_code(member.phone)
    browser.call("POST", "/api/v1/two-factor/sms/confirm", 200, code=code)
    browser.call("POST", "/api/v1/two-factor/backup-codes", 200)
    browser.call("POST", "/api/v1/two-factor/activate", 200, saved_backup_codes=True)
    browser.call("DELETE", f"{HEADLESS}/auth/session", 401)  # signed out


@contextmanager
def served_account(data_dir: Path, **settings: str) -> Iterator[Twofold]:
    """``twofold serve`` (tests/e2e/conftest.py) with one account made by ``twofold
    create-account``, its administrator signed in until the block ends."""
    with serve(data_dir, free_port(), **settings) as server:
        twofold = Twofold(
            server, SmsOutbox(data_dir / "sms-outbox.jsonl"), Mailbox(server.mail_dir)
        )
        server.cli(
            "create-account", "--email", ADMINISTRATOR, "--name", "Relying Party AG",
            "--password-stdin", input=PASSWORD,
        )  # fmt: skip
        with Browser(twofold) as administrator:
            login = {"email": ADMINISTRATOR, "password": PASSWORD}
            administrator.call("POST", f"{HEADLESS}/auth/login", 200, **login)
            organization = administrator.call("GET", "/api/v1/organization", 200)["data"]
            twofold.administrator, twofold.account_id = administrator, str(organization["id"])
            yield twofold
