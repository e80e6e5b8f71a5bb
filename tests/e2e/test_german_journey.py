"""The 2FA set-up in German, in Chromium against a real server (docs/languages.md): a browser
asking for German gets the sign-in page in German, the switch changes the language, and every page
of the set-up by text message is German, with no English string of ``ENGLISH`` left."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import TwofoldServer
from tests.e2e.test_two_factor_journey import E164, NATIONAL_NUMBER, SmsOutbox

pytestmark = pytest.mark.browser

# English a German page must not show: the words of the set-up's buttons, links and headings.
ENGLISH = (
    "Sign in",
    "Sign In",
    "Sign out",
    "Password",
    "Two-factor",
    "Two-Factor",
    "Continue",
    "Back",
    "Send code",
    "Resend",
    "Backup codes",
    "backup codes",
    "Save",
    "Cancel",
    "Confirm",
    "Enter",
    "Your",
    "Step",
    "Remember",
    "Mobile number",
    "Verification code",
    "Skip to content",
)
ENGLISH_WORD = re.compile(r"\b(" + "|".join(re.escape(word) for word in ENGLISH) + r")\b")
# What people read but is not in the text: labels for assistive technology, hints, titles.
READ_ALOUD = """() => [
  document.title,
  document.body.innerText,
  ...[...document.querySelectorAll("[aria-label], [placeholder], [title], [alt]")].flatMap(
    (e) => ["aria-label", "placeholder", "title", "alt"].map((a) => e.getAttribute(a) || "")),
].join("\\n")"""


@pytest.fixture
def german(browser: Browser, twofold_server: TwofoldServer) -> Iterator[Page]:
    """A browser whose language is German (Accept-Language: de-DE)."""
    context = browser.new_context(base_url=twofold_server.url, locale="de-DE")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def expect_german(page: Page, shots: Path, name: str) -> None:
    """``<html lang="de">`` and no English word of ``ENGLISH``; a screenshot for the record."""
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    text = page.evaluate(READ_ALOUD)
    # The language switch names each language in itself ("English"): not a page string.
    left = sorted(set(ENGLISH_WORD.findall(text)))
    page.screenshot(path=str(shots / f"de-{name}.png"), full_page=True)
    assert left == [], f"English left on {name} ({page.url}): {left}\n{text}"


def test_member_sets_up_text_message_2fa_in_german(
    german: Page, twofold_server: TwofoldServer, screenshot_dir: Path
) -> None:
    page = german
    email = "jonas@zweifach.test"
    twofold_server.cli(
        "create-account", "--email", email, "--name", "Zweifach AG", "--password-stdin",
        input=PASSWORD,
    )  # fmt: skip
    outbox = SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")

    # The browser asks for German; the switch changes it, on the sign-in page too.
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="Deutsch").click()
    expect_german(page, screenshot_dir, "sign-in")

    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator('form[action="/accounts/login/"] button[type=submit]').click()
    expect(page).to_have_url(f"{twofold_server.url}/")
    expect_german(page, screenshot_dir, "home")

    page.goto("/settings/security/")
    expect_german(page, screenshot_dir, "security-settings")

    page.goto("/settings/security/2fa/enable/")
    if "/accounts/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Zwei-Faktor-Authentifizierung einschalten"
    )
    page.locator("select[name=country]").select_option("CH")
    page.locator("input[name=phone]").fill(NATIONAL_NUMBER)
    expect_german(page, screenshot_dir, "2fa-phone")
    outbox.mark()
    page.get_by_role("button", name="Code senden").click()

    expect(page).to_have_url(re.compile(r"/settings/security/2fa/confirm/$"))
    code = outbox.next_code(E164)
    assert outbox.texts()[-1]["body"].startswith(f"Ihr Twofold-Bestätigungscode lautet {code}.")
    expect_german(page, screenshot_dir, "2fa-confirm")
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Bestätigen", exact=True).click()

    expect(page).to_have_url(re.compile(r"/settings/security/2fa/backup-codes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sichern Sie Ihre Backup-Codes")
    expect_german(page, screenshot_dir, "2fa-backup-codes")
    page.get_by_label("Ich habe meine Backup-Codes gespeichert").check()
    page.get_by_role("button", name="Zwei-Faktor-Authentifizierung aktivieren").click()

    expect(page).to_have_url(re.compile(r"/settings/security/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "Die Zwei-Faktor-Authentifizierung ist eingeschaltet."
    )
    expect_german(page, screenshot_dir, "2fa-on")
