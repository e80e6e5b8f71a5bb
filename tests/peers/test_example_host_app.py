"""The example host application (examples/host_app/: Flask and Authlib) run for real against a
served Twofold: registered with ``twofold create-application``, started in its own process on a
free port of 127.0.0.1, and used through a member's ``requests`` browser (served_twofold.py),
which answers what Twofold asks on the way (password, texted code, logout confirmation).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import PASSWORD, require_or_skip
from tests.peers.harness import free_port, running, sqlite_pass_only
from tests.peers.served_twofold import HEADLESS, Browser, Member, Twofold, served_account

pytestmark = sqlite_pass_only

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "host_app"
AAL1, AAL2 = "urn:twofold:aal1", "urn:twofold:aal2"
SIGNED_OUT = "Signed out."
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class Example:
    url: str
    client_id: str


@pytest.fixture(scope="module")
def twofold(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twofold]:
    for module in ("flask", "authlib"):  # the test extra's; asked first, before serving Twofold
        if importlib.util.find_spec(module) is None:
            require_or_skip(f"{module} is not installed: `make test` installs the test extra")
    with served_account(
        tmp_path_factory.mktemp("twofold-host-app"), SMS_LIMIT_PER_IP="1000"
    ) as found:
        yield found


@pytest.fixture(scope="module")
def example(twofold: Twofold) -> Iterator[Example]:
    """The example, registered for the account by ``twofold create-application`` with its three
    addresses, and started with the four settings of its README."""
    url = f"http://127.0.0.1:{free_port()}"
    client_id, secret = twofold.register(
        "Host app (example)", f"{url}/callback",
        "--post-logout-redirect-uri", f"{url}/logged-out",
        "--backchannel-logout-uri", f"{url}/backchannel-logout",
    )  # fmt: skip
    assert secret is not None
    settings = {
        "TWOFOLD_ISSUER": twofold.issuer,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": secret,
        "APP_URL": url,
        "NO_PROXY": "127.0.0.1",  # Authlib's requests must reach the served Twofold directly
    }
    command = [sys.executable, "app.py"]
    with running("the example host app", command, cwd=EXAMPLE, ready_url=url, env=settings):
        yield Example(url, client_id)


@pytest.fixture
def member(twofold: Twofold) -> Member:
    return twofold.new_member()


@pytest.fixture
def browser(twofold: Twofold, member: Member) -> Iterator[Browser]:
    with Browser(twofold, member) as opened:
        yield opened


def test_the_example_shows_the_member_signed_in_with_password_and_sms_as_aal2(
    example: Example, browser: Browser, member: Member, twofold: Twofold
) -> None:
    journey = browser.follow(f"{example.url}/login")

    assert journey.asked == ["sign-in"]
    asked = parse_qs(urlsplit(journey.first(twofold.discovery()["authorization_endpoint"])).query)
    assert asked["code_challenge_method"] == ["S256"]
    assert {"state", "nonce", "code_challenge"} <= set(asked)
    shown = journey.response.text
    assert f"Signed in as {member.email} (Relying Party AG, member)" in shown
    assert f"acr: {AAL2}; amr: pwd sms;" in shown
    # Fresh and aal2: the admin area opens without going back to Twofold.
    admin = browser.follow(f"{example.url}/admin")
    assert (admin.visited, admin.response.status_code) == ([f"{example.url}/admin"], 200)
    assert "<h1>Admin area</h1>" in admin.response.text


def _password_alone(browser: Browser, url: str, page: Any) -> str:
    """Twofold's sign-in on a remembered browser: the password, and no code."""
    assert browser.member is not None
    login = {"email": browser.member.email, "password": PASSWORD}
    browser.call("POST", f"{HEADLESS}/auth/login", 200, **login)
    return urljoin(url, parse_qs(urlsplit(url).query)["next"][0])


class RememberedBrowser(Browser):
    """A browser the member ticked "Remember this device" on: Twofold asks it the password
    alone, and the session is aal1."""

    _answers: ClassVar = {**Browser._answers, "sign-in": _password_alone}

    def remember(self) -> None:
        assert self.member is not None
        self.twofold.outbox.mark()
        login = {"email": self.member.email, "password": PASSWORD}
        self.call("POST", f"{HEADLESS}/auth/login", 401, **login)
        code = self.twofold.outbox.next_code(self.member.phone)
        verify = {"method": "sms", "code": code, "remember_device": True}  # ``method`` is taken
        csrf = {"X-CSRFToken": self.http.cookies.get("twofold-csrf", "")}
        url = f"{self.twofold.url}{HEADLESS}/auth/2fa/verify"
        done = self.http.post(url, json=verify, headers=csrf, timeout=10)
        assert done.status_code == 200, done.text
        self.call("DELETE", f"{HEADLESS}/auth/session", 401)  # signed out, still remembered


def test_the_examples_admin_area_steps_a_password_only_session_up_to_the_second_factor(
    example: Example, twofold: Twofold, member: Member
) -> None:
    with RememberedBrowser(twofold, member) as browser:
        browser.remember()
        first = browser.follow(f"{example.url}/login")
        assert f"acr: {AAL1}; amr: pwd" in first.response.text

        admin = browser.follow(f"{example.url}/admin")

    assert admin.asked == ["second factor"]
    asked = parse_qs(urlsplit(admin.first(twofold.discovery()["authorization_endpoint"])).query)
    assert (asked["acr_values"], asked["max_age"]) == ([AAL2], ["600"])
    assert admin.visited[-1] == f"{example.url}/admin"
    assert "<h1>Admin area</h1>" in admin.response.text
    assert f"acr: {AAL2}; amr: pwd" in admin.response.text
    assert "sms" in admin.response.text.split("amr: ")[1].split(";")[0]


def test_the_examples_logout_signs_out_of_twofold_and_comes_back_signed_out(
    example: Example, browser: Browser, twofold: Twofold
) -> None:
    browser.follow(f"{example.url}/login")

    started = browser.http.post(f"{example.url}/logout", allow_redirects=False, timeout=10)
    logout = browser.follow(urljoin(example.url, started.headers["location"]))

    assert logout.asked == ["logout"]
    end_session = logout.first(twofold.discovery()["end_session_endpoint"])
    hint = parse_qs(urlsplit(end_session).query)
    assert hint["post_logout_redirect_uri"] == [f"{example.url}/logged-out"]
    assert "id_token_hint" in hint
    assert "You are signed out of this app and of Twofold." in logout.response.text
    assert not browser.signed_in_to_twofold
    assert SIGNED_OUT in browser.http.get(example.url, timeout=10).text


def _sign_out_at_twofold(twofold: Twofold, browser: Browser) -> None:
    browser.call("DELETE", f"{HEADLESS}/auth/session", 401)


def _deactivate(twofold: Twofold, browser: Browser) -> None:
    assert twofold.administrator is not None
    assert browser.member is not None
    members = twofold.administrator.call("GET", "/api/v1/members", 200)["data"]
    found = next(m for m in members if m["email"] == browser.member.email)
    twofold.administrator.call("POST", f"/api/v1/members/{found['id']}/deactivate", 200)


@pytest.mark.parametrize(
    "end", [_sign_out_at_twofold, _deactivate], ids=["signed-out-at-twofold", "deactivated"]
)
def test_the_example_forgets_a_session_twofold_ended_through_the_back_channel(
    example: Example, browser: Browser, twofold: Twofold, end: Any
) -> None:
    assert "Signed in as" in browser.follow(f"{example.url}/login").response.text

    end(twofold, browser)

    # Twofold POSTed the logout token before it answered; the example's next page knows.
    assert SIGNED_OUT in browser.http.get(example.url, timeout=10).text


def test_the_examples_back_channel_refuses_a_logout_token_twofold_did_not_sign(
    example: Example, twofold: Twofold
) -> None:
    now = int(time.time())
    claims = {
        "iss": twofold.issuer, "aud": example.client_id, "iat": now, "exp": now + 120,
        "jti": "forged", "sid": "any", "events": {LOGOUT_EVENT: {}},
    }  # fmt: skip
    # Twofold's key id, another key: the signature is what the example must check.
    header = {"alg": "RS256", "kid": twofold.keys().keys[0].kid, "typ": "logout+jwt"}
    forged = jwt.encode(header, claims, RSAKey.generate_key())

    with Browser(twofold) as other:
        answer = other.http.post(f"{example.url}/backchannel-logout", data={"logout_token": forged})

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
