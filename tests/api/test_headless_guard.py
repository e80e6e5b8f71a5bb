"""allauth's headless endpoints under hostile input (api/headless/guard.py, config/urls.py): a 4xx
JSON code, never a 500 or Django's HTML page; nothing allauth does not use is served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.headless.internal.restkit.views import RESTView
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import PASSWORD
from twofold.api import body
from twofold.organizations.models import Membership

CLIENTS = ("browser", "app")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# 1,000 arrays in each other: 2 KB that exhausted the recursion of allauth's JSON parser.
DEEP = "[" * 1000 + "]" * 1000
PHONE = ["account/phone", "auth/phone/verify", "auth/phone/verify/resend"]


def send(client: Client, method: str, path: str, data: Any, **headers: str) -> HttpResponse:
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.generic(method, path, raw, content_type="application/json", headers=headers)


def codes(response: HttpResponse) -> list[tuple[str, str | None]]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return [(e["code"], e.get("param")) for e in response.json()["errors"]]


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def json_endpoints() -> list[str]:
    """Every address served by a headless view whose body allauth parses as JSON (allauth's
    own and Twofold's beside them), as the URL resolver matches them (not those it takes out)."""
    resolver = get_resolver()
    found = []
    for route, pattern in _routes(resolver.url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if not route.startswith("_allauth/") or "<" in route or "(" in route:
            continue
        if not isinstance(view_class, type) or not issubclass(view_class, RESTView):
            continue
        if view_class.handle_json_input and resolver.resolve("/" + route).func is pattern.callback:
            found.append("/" + route)
    return sorted(set(found))


@pytest.fixture
def signed_in_browser(member: Membership) -> Client:
    browser = Client()
    browser.force_login(member.user)
    return browser


@pytest.mark.parametrize("client_kind", CLIENTS)
@pytest.mark.parametrize("method", ["GET", "HEAD", *WRITES])
@pytest.mark.parametrize("address", PHONE)
def test_asvs_15_2_3_allauths_phone_endpoints_are_not_served(
    signed_in_browser: Client, client_kind: str, method: str, address: str
) -> None:
    """Phone numbers are off: every method on them answered 500 (signed in or not)."""
    for caller in (Client(), signed_in_browser):
        response = send(caller, method, f"/_allauth/{client_kind}/v1/{address}", {})

        assert response.status_code == 404
        if method != "HEAD":
            assert codes(response) == [("not_found", None)]


def test_the_json_endpoints_are_found() -> None:
    """The walk below sees allauth's endpoints and Twofold's beside them."""
    found = json_endpoints()

    assert "/_allauth/browser/v1/auth/login" in found
    assert "/_allauth/app/v1/auth/2fa/verify" in found
    assert len(found) > 30


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_asvs_15_2_2_json_nested_1000_deep_is_a_400_on_every_allauth_endpoint(
    signed_in_browser: Client, signed_in: bool
) -> None:
    caller = signed_in_browser if signed_in else Client()
    answers = {}
    for path in json_endpoints():
        for method in WRITES:
            response = send(caller, method, path, DEEP)
            answers[method, path] = (response.status_code, codes(response)[0][0])

    refused = {key: answer for key, answer in answers.items() if answer[0] >= 500}
    assert not refused
    assert set(answers.values()) <= {(400, "invalid_json"), (405, "method_not_allowed")}
    assert answers["POST", "/_allauth/browser/v1/auth/login"] == (400, "invalid_json")


@pytest.mark.parametrize("client_kind", CLIENTS)
def test_asvs_15_2_2_a_body_over_64_kib_is_413_before_allauth_reads_it(
    member: Membership, client_kind: str
) -> None:
    padding = "x" * body.MAX_BODY_BYTES
    response = send(
        Client(),
        "POST",
        f"/_allauth/{client_kind}/v1/auth/login",
        {"email": member.user.email, "password": PASSWORD, "padding": padding},
    )

    assert response.status_code == 413
    assert codes(response) == [("too_large", None)]


@pytest.mark.parametrize("data", ['"a string"', "[1, 2]", "null", "not json", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400_invalid_json(data: str | bytes, db: None) -> None:
    """allauth answered an empty HTML 400."""
    response = send(Client(), "POST", "/_allauth/browser/v1/auth/login", data)

    assert response.status_code == 400
    assert codes(response) == [("invalid_json", None)]


def test_brackets_inside_strings_do_not_count_as_nesting(member: Membership) -> None:
    password = "[" * 100 + '\\"{' * 50
    data = {"email": "x@y.test", "password": password}
    response = send(Client(), "POST", "/_allauth/browser/v1/auth/login", data)

    assert response.status_code == 400
    assert codes(response) == [("email_password_mismatch", "password")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("password", ["x"]), ("password", [None, None]), ("email", {"a": 1}), ("password", 123456)],
)
def test_asvs_15_3_5_a_non_string_value_is_refused_not_stringified(
    member: Membership, field: str, value: Any
) -> None:
    data: dict[str, Any] = {"email": member.user.email, "password": PASSWORD, field: value}

    response = send(Client(), "POST", "/_allauth/browser/v1/auth/login", data)

    assert response.status_code == 400
    assert codes(response) == [("wrong_type", field)]


def test_asvs_15_3_5_a_password_sent_as_a_list_does_not_become_the_password(
    member: Membership,
) -> None:
    """Django's CharField made ``["x"]`` the password ``"['x']"``."""
    member.user.set_password("['x']")
    member.user.save()

    data = {"email": member.user.email, "password": ["x"]}
    response = send(Client(), "POST", "/_allauth/app/v1/auth/login", data)

    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_values_of_the_type_a_field_takes_are_accepted(member: Membership) -> None:
    response = send(
        Client(),
        "POST",
        "/_allauth/browser/v1/auth/login",
        {"email": member.user.email, "password": PASSWORD},
    )

    assert response.status_code == 200


def test_a_method_a_headless_endpoint_does_not_take_is_a_json_405(db: None) -> None:
    """allauth parsed the body first (a deep one was a 500), then answered 405 without JSON."""
    response = send(Client(), "PUT", "/_allauth/browser/v1/config", {})

    assert response.status_code == 405
    assert codes(response) == [("method_not_allowed", None)]
    assert response["Allow"] == "GET, OPTIONS"


def test_asvs_3_5_1_a_csrf_failure_of_the_browser_api_answers_json(member: Membership) -> None:
    """The refusal is Django's CSRF check; its answer was Django's HTML page."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/_allauth/browser/v1/config")  # sets the CSRF cookie, which is not sent back

    response = send(
        browser,
        "POST",
        "/_allauth/browser/v1/auth/login",
        {"email": member.user.email, "password": PASSWORD},
    )

    assert response.status_code == 403
    assert codes(response)[0][0] == "csrf_failed"
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_csrf_failure_of_a_page_is_still_djangos_page(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "x"})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
