"""TWOFOLD_COOKIE_DOMAIN: the session and CSRF cookies shared with sibling subdomains (the apps
behind forward-auth), with the cookie prefix a Domain attribute allows (RFC 6265bis 4.1.3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

from tests.conftest import PASSWORD
from tests.test_cli import FACTOR_KEY, OIDC_KEY, PROD_KEY, settings_of

PRODUCTION = {
    "MODE": "production",
    "SECRET_KEY": PROD_KEY,
    "FACTOR_KEY": FACTOR_KEY,
    "OIDC_PRIVATE_KEY": OIDC_KEY,
    "PUBLIC_URL": "https://login.example.com",
}
COOKIES = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_DOMAIN",
)


def remembered_cookie_name(data_dir: Path, **variables: str) -> str:
    """The "remember this device" cookie's name under these settings, in a process of its own."""
    code = (
        "import django; django.setup(); from twofold.signin import remembered; "
        "print(remembered.COOKIE_NAME)"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    environ.update(
        {"DJANGO_SETTINGS_MODULE": "twofold.config.settings", "TWOFOLD_DATA_DIR": str(data_dir)}
    )
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    done = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_rfc_6265bis_a_shared_cookie_takes_the_secure_prefix_since_host_forbids_a_domain(
    tmp_path,
):
    values = settings_of(tmp_path, *COOKIES, COOKIE_DOMAIN="example.com", **PRODUCTION)
    assert values == {
        "SESSION_COOKIE_NAME": "__Secure-twofold-session",
        "SESSION_COOKIE_DOMAIN": "example.com",
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_NAME": "__Secure-twofold-csrf",
        "CSRF_COOKIE_DOMAIN": "example.com",
    }


def test_without_a_cookie_domain_production_cookies_stay_host_prefixed_without_a_domain(tmp_path):
    values = settings_of(tmp_path, *COOKIES, **PRODUCTION)
    assert values["SESSION_COOKIE_NAME"] == "__Host-twofold-session"
    assert values["CSRF_COOKIE_NAME"] == "__Host-twofold-csrf"
    assert values["SESSION_COOKIE_DOMAIN"] is None
    assert values["CSRF_COOKIE_DOMAIN"] is None


def test_over_http_a_cookie_domain_needs_no_prefix(tmp_path):
    values = settings_of(
        tmp_path, *COOKIES, PUBLIC_URL="http://login.example.test", COOKIE_DOMAIN="example.test"
    )
    assert values["SESSION_COOKIE_NAME"] == "twofold-session"
    assert values["SESSION_COOKIE_DOMAIN"] == "example.test"


def test_the_remembered_device_cookie_never_leaves_twofolds_host(tmp_path):
    shared = remembered_cookie_name(tmp_path, COOKIE_DOMAIN="example.com", **PRODUCTION)
    assert shared == "__Host-twofold-device"


def test_a_shared_session_cookie_is_set_with_the_domain_and_the_secure_prefix(client, member):
    with override_settings(
        SESSION_COOKIE_DOMAIN="example.com", SESSION_COOKIE_NAME="__Secure-twofold-session"
    ):
        response = client.post(
            "/accounts/login/", {"login": member.user.email, "password": PASSWORD}
        )
        cookie = response.cookies["__Secure-twofold-session"]
    assert cookie["domain"] == "example.com"
    assert cookie.value  # the new session's key
