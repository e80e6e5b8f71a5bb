"""The help article "Set up Two-Factor-Authorization for your Account" in Chromium against a real
server: turn on SMS two-factor authentication from the user menu, save the backup codes, then sign
in with a text-message code, with a backup code, and see a used backup code refused."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Screens, TwofoldServer
from tests.e2e.test_foundation_journey import SIGN_IN, open_user_menu, sign_out

pytestmark = pytest.mark.browser

SMS_TIMEOUT = 10.0
SECOND_FACTOR = re.compile(r"/accounts/2fa/$")
BACKUP_CODE_STEP = re.compile(r"/accounts/2fa/backup-code/$")
SETTINGS = re.compile(r"/settings/security/$")
# The last line of every text is "@<host> #<code>" (WebOTP domain-bound code).
SMS_CODE = re.compile(r"#(\d{6})\s*$")
# Backup codes are shown grouped: ABCD-EFGH-JKLMN (13 letters of a 32-letter alphabet).
BACKUP_CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{5}$")

NATIONAL_NUMBER = "079 123 45 67"
E164 = "+41791234567"
FORMATTED = "+41 79 123 45 67"
MASKED = "+41 •• ••• •• 67"


@dataclass
class SmsOutbox:
    """The texts the ``outbox`` gateway appended to ``<data dir>/sms-outbox.jsonl``."""

    path: Path
    seen: int = field(default=0)

    def texts(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        # A line without its newline is still being written: skip it.
        lines = self.path.read_text(encoding="utf-8").split("\n")[:-1]
        return [json.loads(line) for line in lines if line.strip()]

    def mark(self) -> None:
        """Remember the texts sent so far: ``next_code`` waits for a newer one."""
        self.seen = len(self.texts())

    def next_code(self, to: str) -> str:
        """The code of the first text to ``to`` after ``mark``, waiting up to ``SMS_TIMEOUT``."""
        deadline = time.monotonic() + SMS_TIMEOUT
        while True:
            texts = self.texts()
            new = [text for text in texts[self.seen :] if text["to"] == to]
            if new:
                self.seen = len(texts)
                body = new[-1]["body"]
                found = SMS_CODE.search(body)
                assert found, f"no code after the final '#' of the text:\n{body}"
                return found.group(1)
            if time.monotonic() > deadline:
                pytest.fail(f"no text to {to} within {SMS_TIMEOUT:.0f} s in {self.path}")
            time.sleep(0.1)


def sign_in_with_password(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def expect_signed_in(page: Page, url: str, email: str) -> None:
    expect(page).to_have_url(f"{url}/")
    expect(page.get_by_test_id("signed-in-email")).to_have_text(email)


def fact(page: Page, term: str) -> Locator:
    """The value of ``term`` in the facts of the "Two-factor authentication" settings panel."""
    panel = page.get_by_role("region", name="Two-factor authentication")
    return (
        panel.locator("dl.facts > div").filter(has=page.locator("dt", has_text=term)).locator("dd")
    )


def expect_not_signed_in(page: Page) -> None:
    """No session yet: the page shows no user menu, and the home page asks to sign in."""
    expect(page.locator("details.usermenu")).to_have_count(0)
    # Asked with the context's cookies but without leaving the page (and its pending sign-in).
    home = page.context.request.get("/", max_redirects=0)
    assert home.status == 302, f"/ answered {home.status} before the second factor"
    assert SIGN_IN.search(home.headers["location"]) or SECOND_FACTOR.search(
        home.headers["location"].split("?")[0]
    ), home.headers["location"]


def test_member_turns_on_sms_two_factor_and_signs_in_with_codes(
    page: Page, screens: Screens, twofold_server: TwofoldServer
) -> None:
    email = "hanna@two-factor.test"
    name = email  # the menu shows the member's name, here the email (created without a name)
    twofold_server.cli(
        "create-account",
        "--email",
        email,
        "--name",
        "Two Factor AG",
        "--password-stdin",
        input=PASSWORD,
    )
    outbox = SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")

    # 1. Sign in with the password only: two-factor authentication is not on yet.
    sign_in_with_password(page, email)
    expect_signed_in(page, twofold_server.url, email)
    screens.shot("2fa-home-before")

    # 2. "Password and Two-Factor Authentication" from the menu next to the name.
    menu = open_user_menu(page, name)
    screens.shot("2fa-user-menu")
    menu.get_by_role("link", name="Password and Two-Factor Authentication").click()
    expect(page).to_have_url(SETTINGS)
    two_factor = page.get_by_role("region", name="Two-factor authentication")
    expect(fact(page, "Status")).to_have_text("Off")
    methods = two_factor.get_by_role("list", name="Your methods")
    expect(methods.get_by_role("listitem")).to_have_count(3)  # SMS, app, security key: all off
    screens.shot("2fa-settings-off")

    # 3. "Set up text messages"; a stale sign-in first confirms the password.
    methods.get_by_role("link", name="Set up text messages").click()
    page.wait_for_url(re.compile(r"/(settings/security/2fa/enable|accounts/reauthenticate)/"))
    if "/accounts/reauthenticate/" in page.url:
        screens.shot("2fa-reauthenticate")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/enable/\??$"))
    expect(page.get_by_role("heading", name="Turn on two-factor authentication")).to_be_visible()

    # 4. The mobile number, in national form with its country.
    page.get_by_label("Country").select_option("CH")
    page.get_by_label("Mobile number").fill(NATIONAL_NUMBER)
    screens.shot("2fa-phone")
    outbox.mark()
    page.get_by_role("button", name="Send code").click()

    # 5. The code of the text message.
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/confirm/$"))
    expect(page.get_by_role("heading", name="Enter the code we sent")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(FORMATTED)
    code_input = page.get_by_label("Verification code")
    expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    expect(code_input).to_have_attribute("inputmode", "numeric")
    screens.shot("2fa-confirm-number")
    code_input.fill(outbox.next_code(E164))
    page.get_by_role("button", name="Confirm", exact=True).click()

    # 6. Ten backup codes, to copy, download or print, then activation.
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/backup-codes/$"))
    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    backup_codes = [c.strip() for c in page.locator("ol.code-grid li code").all_inner_texts()]
    assert len(backup_codes) == 10, backup_codes
    assert len(set(backup_codes)) == 10, backup_codes
    assert all(BACKUP_CODE.match(code) for code in backup_codes), backup_codes
    tools = page.locator("[data-code-tools]")
    for label in ("Copy", "Download", "Print"):
        expect(tools.get_by_role("button", name=label, exact=True)).to_be_visible()
    with page.expect_download() as download_info:
        tools.get_by_role("button", name="Download", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "twofold-backup-codes.txt"
    downloaded = Path(download.path()).read_text(encoding="utf-8")
    assert email in downloaded.splitlines()[0], downloaded
    assert [line for line in downloaded.splitlines() if BACKUP_CODE.match(line)] == backup_codes
    expect(tools.get_by_role("status")).to_contain_text("twofold-backup-codes.txt")
    screens.shot("2fa-backup-codes")
    page.get_by_label("I have saved my backup codes").check()
    page.get_by_role("button", name="Activate two-factor authentication").click()

    expect(page).to_have_url(SETTINGS)
    expect(page.get_by_role("status")).to_contain_text("Two-factor authentication is on.")
    expect(fact(page, "Status")).to_have_text("On")
    expect(fact(page, "Codes go to")).to_have_text(MASKED)
    expect(fact(page, "Backup codes")).to_have_text("10 left")
    sms_row = methods.get_by_role("listitem").filter(has_text="Text message (SMS)")
    expect(sms_row).to_contain_text("On")
    expect(sms_row.get_by_role("link", name="Change number")).to_be_visible()
    screens.shot("2fa-settings-on")

    # 7. Signing in now needs the code of a text message; there is no session before it.
    sign_out(page, name)
    outbox.mark()
    sign_in_with_password(page, email)
    expect(page).to_have_url(SECOND_FACTOR)
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(MASKED)
    sms_input = page.get_by_label("Verification code")
    expect(sms_input).to_have_attribute("autocomplete", "one-time-code")
    expect(sms_input).to_have_attribute("inputmode", "numeric")
    screens.shot("2fa-sign-in-sms-code")
    sign_in_code = outbox.next_code(E164)
    expect_not_signed_in(page)

    page.goto("/")
    expect(page).to_have_url(re.compile(rf"({SIGN_IN.pattern})|({SECOND_FACTOR.pattern})"))
    expect(page.get_by_test_id("signed-in-email")).to_have_count(0)
    expect(page.locator("details.usermenu")).to_have_count(0)
    screens.shot("2fa-home-before-second-factor")
    if SIGN_IN.search(page.url):
        page.goto("/accounts/2fa/")
    if SIGN_IN.search(page.url):  # leaving the step dropped the pending sign-in: start again
        outbox.mark()
        sign_in_with_password(page, email)
        expect(page).to_have_url(SECOND_FACTOR)
        sign_in_code = outbox.next_code(E164)
    page.get_by_label("Verification code").fill(sign_in_code)
    page.get_by_role("button", name="Verify and sign in").click()
    expect_signed_in(page, twofold_server.url, email)
    screens.shot("2fa-signed-in-by-sms")

    # 8. Lost phone: a backup code instead of the text message.
    sign_out(page, name)
    sign_in_with_password(page, email)
    expect(page).to_have_url(SECOND_FACTOR)
    page.get_by_role("link", name="Use a backup code instead").click()
    expect(page).to_have_url(BACKUP_CODE_STEP)
    expect(page.get_by_role("heading", name="Use a backup code")).to_be_visible()
    page.get_by_label("Backup code").fill(backup_codes[0])
    screens.shot("2fa-sign-in-backup-code")
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page, twofold_server.url, email)
    screens.shot("2fa-signed-in-by-backup-code")
    sign_out(page, name)

    # 9. A backup code works once; another one still does.
    sign_in_with_password(page, email)
    expect(page).to_have_url(SECOND_FACTOR)
    page.get_by_role("link", name="Use a backup code instead").click()
    expect(page).to_have_url(BACKUP_CODE_STEP)
    page.get_by_label("Backup code").fill(backup_codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(BACKUP_CODE_STEP)
    expect(page.get_by_role("alert")).to_contain_text(
        "That backup code is not right, or was already used."
    )
    expect(page.get_by_label("Backup code")).to_be_visible()
    expect_not_signed_in(page)
    screens.shot("2fa-backup-code-used-twice")

    page.get_by_label("Backup code").fill(backup_codes[1])
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page, twofold_server.url, email)
    open_user_menu(page, name).get_by_role(
        "link", name="Password and Two-Factor Authentication"
    ).click()
    expect(page).to_have_url(SETTINGS)
    expect(fact(page, "Status")).to_have_text("On")
    expect(fact(page, "Codes go to")).to_have_text(MASKED)
    expect(fact(page, "Backup codes")).to_have_text("8 left")
    screens.shot("2fa-settings-8-backup-codes-left")
