"""An application behind nginx with Twofold's forward-auth (docs/forward-auth.md), in Chromium:
the app sends a signed-out browser to Twofold's sign-in (password, then a texted code) and gets
it back with the member in ``X-Twofold-*`` headers; its ``/admin/`` needs aal2, so after a
password-only sign-in on a remembered browser it asks for the second factor first."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import REPO_ROOT, Screens, TwofoldServer
from tests.e2e.test_foundation_journey import SIGN_IN, sign_out
from tests.e2e.test_two_factor_journey import SECOND_FACTOR, SmsOutbox
from tests.peers.nginx import AppBehindNginx, app_behind_nginx

pytestmark = pytest.mark.browser

ADMINISTRATOR = "ada@forward.test"
MEMBER = "mia@forward.test"
PHONE = "+41791230077"
REAUTHENTICATE = re.compile(r"/accounts/2fa/reauthenticate/\?")
# Run inside the server's environment: the member, with SMS two-factor authentication on.
SEED = (
    "import django, sys; django.setup(); from tests.e2e.sso_seed import member_with_sms; "
    "member_with_sms(*sys.argv[1:])"
)


@pytest.fixture(scope="module")
def app(twofold_server: TwofoldServer) -> Iterator[AppBehindNginx]:
    """The app behind nginx, for the members of an account whose member Mia has SMS 2FA."""
    twofold_server.cli("create-account", "--email", ADMINISTRATOR, "--name", "Forward AG",
                       "--password-stdin", input=PASSWORD)  # fmt: skip
    environ = {**twofold_server.environ, "DJANGO_SETTINGS_MODULE": "twofold.config.settings",
               "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", SEED, ADMINISTRATOR, MEMBER, "Mia Muster", PHONE],
        env=environ, cwd=twofold_server.data_dir, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with app_behind_nginx(twofold_server.url) as behind:
        yield behind


def expect_member_at_the_app(page: Page, app: AppBehindNginx, path: str, **headers: str) -> None:
    expect(page).to_have_url(f"{app.url}{path}")
    expect(page.get_by_role("heading", name="The app behind nginx")).to_be_visible()
    for name, value in {"X-Twofold-Email": MEMBER, **headers}.items():
        expect(page.get_by_test_id(name.lower())).to_have_text(value)


def sign_in(page: Page, *, remember: bool, outbox: SmsOutbox | None) -> None:
    """Twofold's sign-in form; with ``outbox``, the texted code at the second step."""
    expect(page).to_have_url(SIGN_IN)
    page.get_by_label("Email").fill(MEMBER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if outbox is None:
        return
    expect(page).to_have_url(SECOND_FACTOR)
    page.get_by_label("Verification code").fill(outbox.next_code(PHONE))
    if remember:
        page.get_by_label("Remember this device for 30 days").check()
    page.get_by_role("button", name="Verify and sign in").click()


def test_nginx_app_signs_in_through_twofold_with_sms_and_asks_aal2_for_admin(
    page: Page, screens: Screens, twofold_server: TwofoldServer, app: AppBehindNginx
) -> None:
    outbox = SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")

    # 1. The app, signed out: nginx sends the browser to Twofold's sign-in.
    outbox.mark()
    page.goto(f"{app.url}/reports?month=11")
    expect(page).to_have_url(SIGN_IN)
    screens.shot("forward-auth-sign-in")

    # 2. Password, then the texted code (this browser remembered), then back at the app.
    sign_in(page, remember=True, outbox=outbox)
    expect_member_at_the_app(
        page, app, "/reports?month=11", **{"X-Twofold-Acr": "urn:twofold:aal2",
                                          "X-Twofold-Amr": "pwd sms"}
    )  # fmt: skip
    expect(page.get_by_test_id("x-twofold-account-name")).to_have_text("Forward AG")
    expect(page.get_by_test_id("x-twofold-role")).to_have_text("member")
    screens.shot("forward-auth-app-aal2")
    page.goto(f"{app.url}/admin/")
    expect_member_at_the_app(page, app, "/admin/", **{"X-Twofold-Acr": "urn:twofold:aal2"})

    # 3. Signed out, then in again on the remembered browser: the password alone (aal1).
    page.goto(f"{twofold_server.url}/")
    sign_out(page, "Mia Muster")
    page.goto(f"{app.url}/reports")
    sign_in(page, remember=False, outbox=None)
    expect_member_at_the_app(
        page, app, "/reports", **{"X-Twofold-Acr": "urn:twofold:aal1",
                                 "X-Twofold-Amr": "pwd remembered"}
    )  # fmt: skip
    screens.shot("forward-auth-app-aal1")

    # 4. /admin/ needs aal2: Twofold asks for the second factor first, then lets the browser in.
    page.goto(f"{app.url}/admin/users")
    expect(page).to_have_url(REAUTHENTICATE)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    screens.shot("forward-auth-step-up")
    outbox.mark()
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Verification code").fill(outbox.next_code(PHONE))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect_member_at_the_app(page, app, "/admin/users", **{"X-Twofold-Acr": "urn:twofold:aal2"})
    screens.shot("forward-auth-admin-after-step-up")
    assert "[error]" not in app.error_log(), app.error_log()
