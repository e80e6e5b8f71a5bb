"""nginx's ``auth_request`` in front of an application, asking Twofold (served by Django's live
server, on the test database) about every request: the configuration of docs/forward-auth.md
as nginx itself runs it, without a browser."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, signed_in
from tests.peers import nginx as nginx_peer
from tests.peers.harness import local_browser
from tests.peers.nginx import (
    AppBehindNginx,
    app_behind_nginx,
    check_include,
    forward_auth_config,
    member_include,
)
from twofold.organizations.models import Membership
from twofold.sessions.member_sessions import end_all_sessions

# nginx's side does not depend on the database: once, in the SQLite pass (the check itself runs
# on PostgreSQL and Redis in tests/api/test_forward_auth.py).
pytestmark = pytest.mark.skipif(
    os.environ.get("TWOFOLD_TEST_BACKEND") == "services",
    reason="nginx in front of the live server: runs in the SQLite pass",
)


@pytest.fixture
def nginx(transactional_db, live_server, settings) -> Iterator[AppBehindNginx]:
    """nginx in front of the echo application, asking the live server (which sees the test's
    rows only outside a test transaction)."""
    with app_behind_nginx(live_server.url) as behind:
        # Twofold's sign-in link names its public address; its page returns to nginx only.
        host = urlsplit(behind.url).netloc
        settings.TWOFOLD = replace(
            settings.TWOFOLD, public_url=live_server.url, forward_auth_hosts=(host,)
        )
        yield behind


def browser_of(client: Client) -> requests.Session:
    """A plain HTTP client carrying ``client``'s Twofold session cookie (cookies are per host,
    not per port: the browser sends it to nginx on 127.0.0.1 too)."""
    browser = local_browser()
    name = django_settings.SESSION_COOKIE_NAME
    browser.cookies.set(name, client.cookies[name].value)
    return browser


def get(browser: requests.Session, url: str, **headers: str) -> requests.Response:
    return browser.get(url, headers={"Accept": "application/json", **headers},
                       allow_redirects=False, timeout=10)  # fmt: skip


def sign_in_page(response: requests.Response, live_server) -> dict[str, str]:
    """The query of Twofold's forward-auth sign-in page that nginx sent the browser to."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{live_server.url}/auth/forward/start"
    )
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def test_nginx_sends_a_signed_out_browser_to_twofolds_sign_in_and_back(nginx, live_server):
    answer = get(local_browser(), f"{nginx.url}/reports?month=11&year=2026")
    assert sign_in_page(answer, live_server) == {"rd": f"{nginx.url}/reports?month=11&year=2026"}
    assert nginx.app.received == []  # nothing reached the application


def test_nginx_hands_the_member_to_the_application(nginx, member: Membership):
    browser = browser_of(freshly_signed_in(Client(), member, second_factor="sms"))
    answer = get(browser, f"{nginx.url}/reports")
    assert answer.status_code == 200, answer.text[:300]
    twofold = answer.json()["twofold"]
    assert twofold["X-Twofold-User"] == str(member.user.pk)
    assert twofold["X-Twofold-Email"] == member.user.email
    assert twofold["X-Twofold-Account"] == str(member.organization_id)
    assert twofold["X-Twofold-Account-Name"] == member.organization.name
    assert twofold["X-Twofold-Role"] == "member"
    assert twofold["X-Twofold-Acr"] == "urn:twofold:aal2"
    assert twofold["X-Twofold-Amr"] == "pwd sms"
    assert twofold["X-Twofold-Auth-Time"].isdigit()


def test_a_client_cannot_forge_the_member_headers(nginx, member: Membership):
    browser = browser_of(signed_in(Client(), member))  # no recorded authentication: no time
    forged = {"X-Twofold-User": "1", "X-Twofold-Role": "administrator",
              "X-Twofold-Auth-Time": "4102444800"}  # fmt: skip
    answer = get(browser, f"{nginx.url}/", **forged)
    received = nginx.app.received[-1]
    assert answer.status_code == 200
    assert received["X-Twofold-User"] == str(member.user.pk)
    assert received["X-Twofold-Role"] == "member"
    assert "X-Twofold-Auth-Time" not in received


def test_the_aal2_location_sends_a_password_only_session_to_the_second_factor(
    nginx, live_server, member: Membership
):
    give_sms_factor(member)
    browser = browser_of(freshly_signed_in(Client(), member))  # the password only: aal1
    assert get(browser, f"{nginx.url}/").status_code == 200
    answer = get(browser, f"{nginx.url}/admin/users")
    assert answer.headers["WWW-Authenticate"].startswith(
        'Bearer error="insufficient_user_authentication"'
    )
    query = sign_in_page(answer, live_server)
    assert query == {"rd": f"{nginx.url}/admin/users", "aal": "2"}
    # Twofold's page asks for the second factor before going back.
    start = browser.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert urlsplit(start.headers["Location"]).path == "/accounts/2fa/reauthenticate/"


def test_the_apps_address_cannot_lower_what_nginx_asks(nginx, live_server, member: Membership):
    give_sms_factor(member)
    browser = browser_of(freshly_signed_in(Client(), member))  # aal1
    answer = get(browser, f"{nginx.url}/admin/?aal=1&redirect=1")
    assert sign_in_page(answer, live_server)["aal"] == "2"  # the subrequest carries no query


def test_the_aal2_location_lets_an_aal2_session_through(nginx, member: Membership):
    browser = browser_of(freshly_signed_in(Client(), member, second_factor="sms"))
    answer = get(browser, f"{nginx.url}/admin/users")
    assert answer.status_code == 200
    assert answer.json()["path"] == "/admin/users"


def test_twofolds_page_sends_a_signed_in_browser_back_to_nginx(
    nginx, live_server, member: Membership
):
    browser = browser_of(freshly_signed_in(Client(), member, second_factor="sms"))
    link = get(local_browser(), f"{nginx.url}/reports?month=11").headers["Location"]
    back = browser.get(link, allow_redirects=False, timeout=10)
    assert back.headers["Location"] == f"{nginx.url}/reports?month=11"
    assert get(browser, back.headers["Location"]).status_code == 200


def test_an_ended_session_is_turned_away_at_once(nginx, live_server, member: Membership):
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    browser = browser_of(client)
    assert get(browser, f"{nginx.url}/").status_code == 200
    end_all_sessions(member.user)
    sign_in_page(get(browser, f"{nginx.url}/"), live_server)


def test_a_post_is_checked_too(nginx, member: Membership):
    browser = browser_of(freshly_signed_in(Client(), member, second_factor="sms"))
    answer = browser.post(f"{nginx.url}/form", data={"x": "1"}, timeout=10,
                          headers={"Accept": "application/json"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["twofold"]["X-Twofold-User"] == str(member.user.pk)


@pytest.mark.parametrize(
    ("required", "outcome"), [("1", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_without_nginx_the_tests_skip_or_fail_when_services_are_required(
    monkeypatch, required, outcome
):
    monkeypatch.setenv("TWOFOLD_REQUIRE_SERVICES", required)
    monkeypatch.setattr(nginx_peer.shutil, "which", lambda name: None)
    monkeypatch.setattr(nginx_peer, "NGINX_PATHS", ())
    with pytest.raises(outcome, match="nginx is not installed"):
        nginx_peer.nginx_executable()


DOCS = Path(__file__).resolve().parents[2] / "docs" / "forward-auth.md"
# What differs between the documented deployment and this machine's.
_DEPLOYMENT = re.compile(
    r"^(listen|server_name|upstream|proxy_set_header (Host|X-Forwarded-Proto)) "
)


def _lines(config: str) -> list[str]:
    """The directives of ``config``, one a line, without comments, blank lines or what only a
    deployment sets (addresses, the listening port)."""
    lines = (line.split("#")[0].strip() for line in config.splitlines())
    return [line for line in lines if line and not _DEPLOYMENT.match(line)]


def _documented(containing: str) -> list[str]:
    blocks = re.findall(r"```nginx\n(.*?)```", DOCS.read_text(), re.DOTALL)
    return _lines(next(block for block in blocks if containing in block))


def test_the_documented_nginx_configuration_is_the_one_tested(tmp_path):
    assert _documented("auth_request_set $twofold_signin") == _lines(member_include())
    assert _documented("proxy_pass_request_body off") == _lines(check_include("twofold:8000"))
    tested = forward_auth_config(
        directory=tmp_path, port=8080, twofold="http://twofold:8000", app="http://app:8080"
    )
    server = tested[tested.index("    server {") : tested.rindex("}")]
    assert _documented("location @twofold_signin") == [
        line for line in _lines(server) if "nginx-ready" not in line
    ]
