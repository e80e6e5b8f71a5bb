"""A passkey in Chromium against a real server, with Chromium's virtual WebAuthn authenticator
(DevTools protocol ``WebAuthn.addVirtualAuthenticator``): register it on the settings page,
sign out, then "Sign in with a passkey" — two factors at once, no second step.

WebAuthn needs a secure context, and the RP id is the host name of the page (allauth's rule):
``http://localhost`` is one (``http://127.0.0.1`` is too, but Chromium and python-fido2 refuse
an IP address as RP id), so this server's public URL is ``http://localhost:<port>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, CDPSession, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Screens, TwofoldServer, _free_port, serve
from tests.e2e.test_foundation_journey import sign_out
from tests.e2e.test_two_factor_journey import expect_signed_in, sign_in_with_password

pytestmark = pytest.mark.browser

KEYS = re.compile(r"/settings/security/2fa/webauthn/$")
EMAIL = "pia@passkey.test"


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwofoldServer]:
    port = _free_port()
    with serve(
        tmp_path_factory.mktemp("twofold-passkey"), port, PUBLIC_URL=f"http://localhost:{port}"
    ) as server:
        yield server


@dataclass(frozen=True)
class VirtualPasskeyPage:
    page: Page
    cdp: CDPSession
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """What the virtual authenticator keeps."""
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        return list(found["credentials"])


@pytest.fixture
def passkey_page(browser: Browser, localhost_server: TwofoldServer) -> Iterator[VirtualPasskeyPage]:
    """A page on http://localhost with a virtual platform authenticator that keeps passkeys
    (resident keys) and verifies the user."""
    port = localhost_server.url.rsplit(":", 1)[1]
    context = browser.new_context(base_url=f"http://localhost:{port}")
    context.set_default_timeout(10_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    try:
        yield VirtualPasskeyPage(page, cdp, authenticator["authenticatorId"])
    finally:
        context.close()


def test_member_registers_a_passkey_and_signs_in_with_it(
    passkey_page: VirtualPasskeyPage, localhost_server: TwofoldServer, screenshot_dir: Path
) -> None:
    page = passkey_page.page
    screens = Screens(page, screenshot_dir, number=90)
    screens.watch()
    localhost_server.cli(
        "create-account",
        "--email",
        EMAIL,
        "--name",
        "Passkey AG",
        "--password-stdin",
        input=PASSWORD,
    )
    base = f"http://localhost:{localhost_server.url.rsplit(':', 1)[1]}"

    # 1. Password sign-in, then "Security keys and passkeys" on the settings page.
    sign_in_with_password(page, EMAIL)
    expect_signed_in(page, base, EMAIL)
    page.goto("/settings/security/")
    page.locator("#security-keys").click()
    expect(page).to_have_url(KEYS)
    expect(page.get_by_role("heading", name="Security keys and passkeys")).to_be_visible()
    screens.shot("passkey-settings")

    # 2. Name it, make it a passkey; the virtual authenticator answers the browser's prompt.
    page.get_by_label("Name").fill("Virtual passkey")
    page.get_by_label("Use it to sign in without a password (a passkey)").check()
    page.get_by_role("button", name="Add a key").click()

    # 3. The first factor: backup codes, then activation.
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/webauthn/backup-codes/$"))
    expect(page.locator("ol.code-grid li")).to_have_count(10)
    screens.shot("passkey-backup-codes")
    page.get_by_label("I have saved my backup codes").check()
    page.get_by_role("button", name="Activate two-factor authentication").click()
    expect(page).to_have_url(re.compile(r"/settings/security/$"))
    expect(page.get_by_role("status").first).to_contain_text("Two-factor authentication is on.")
    stored = passkey_page.credentials()
    assert len(stored) == 1
    assert stored[0]["isResidentCredential"] is True
    assert stored[0]["rpId"] == "localhost"

    # 4. Sign out; "Sign in with a passkey" signs in with no password and no second step.
    sign_out(page, EMAIL)
    page.get_by_role("button", name="Use a passkey").click()
    expect_signed_in(page, base, EMAIL)
    screens.shot("passkey-signed-in")
    me = page.context.request.get("/api/v1/me").json()["data"]
    assert (me["amr"], me["aal"]) == (["hwk", "user"], "aal2")
    screens.check()
