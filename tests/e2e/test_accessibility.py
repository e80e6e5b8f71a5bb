"""Every page of Twofold in Chromium, checked by axe-core (issue 19): signed out, in the sign-in
steps, as a member, as an administrator and in the forced enrollment, at 1280 and 390 px wide.

Each page must have no axe violation of any impact, no ``aria-describedby``/``aria-labelledby``
pointing to an id that is not there, and must not scroll sideways at 390 and 320 px (WCAG
1.4.10). axe-core is installed by ``make test`` from ``tests/a11y/package-lock.json`` (``npm ci``)
and injected as an init script (the pages' Content-Security-Policy does not apply to it). Also:
the focus ring's contrast on white (WCAG 1.4.11), the user menu closing with Escape.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import PASSWORD, require_or_skip
from tests.e2e import a11y_seed
from tests.e2e.conftest import REPO_ROOT, Screens, TwofoldServer, _free_port, serve
from tests.e2e.test_foundation_journey import open_user_menu
from tests.e2e.test_two_factor_journey import SmsOutbox, sign_in_with_password

pytestmark = pytest.mark.browser

AXE = REPO_ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SEED = "import django; django.setup(); from tests.e2e.a11y_seed import main; main()"
AXE_WIDTHS = (1280, 390)
NARROW_WIDTHS = (390, 320)
HEIGHT = 800

# Every id an aria-describedby or aria-labelledby names, that no element of the page has.
MISSING_IDS = """() => {
  const missing = [];
  for (const element of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
    for (const name of ["aria-describedby", "aria-labelledby"]) {
      for (const id of (element.getAttribute(name) || "").split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(`${name}="${id}" on <${element.localName}>`);
      }
    }
  }
  return missing;
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} at `
    + v.nodes.map(n => n.target.join(" ")).join(", "));
}"""


@dataclass(frozen=True)
class Seeded:
    server: TwofoldServer
    invitation: str
    application: int
    connection: int

    @property
    def outbox(self) -> SmsOutbox:
        return SmsOutbox(self.server.data_dir / "sms-outbox.jsonl")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One Twofold for the module, with the people of ``a11y_seed``."""
    if not AXE.exists():
        require_or_skip(f"axe-core is not installed ({AXE}): make peers installs it with npm ci")
    with serve(tmp_path_factory.mktemp("twofold-a11y"), _free_port()) as server:
        server.cli(
            "create-account",
            "--email",
            a11y_seed.ADMINISTRATOR,
            "--name",
            "Axe AG",
            "--password-stdin",
            input=PASSWORD,
        )
        environ = {
            **server.environ,
            "DJANGO_SETTINGS_MODULE": "twofold.config.settings",
            # ``tests`` importable from the data directory, before what the caller's path has.
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        }
        done = subprocess.run(
            [sys.executable, "-c", SEED],
            env=environ,
            cwd=server.data_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found = json.loads(done.stdout.strip().splitlines()[-1])
        yield Seeded(server, found["invitation"], found["application"], found["connection"])


@dataclass
class Tour:
    """Pages checked one after the other in one browser context; the findings of all of them."""

    page: Page
    screens: Screens
    findings: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """axe at each of ``AXE_WIDTHS``, the aria ids, no sideways scroll at ``NARROW_WIDTHS``."""
        page = self.page
        page.wait_for_load_state("load")
        where = f"{name} ({re.sub(r'^https?://[^/]+', '', page.url)})"
        for missing in page.evaluate(MISSING_IDS):
            self.findings.append(f"{where}: no element has the id of {missing}")
        for width in AXE_WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            for violation in page.evaluate(AXE_RUN):
                self.findings.append(f"{where} at {width} px: {violation}")
        for width in NARROW_WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                self.findings.append(
                    f"{where} at {width} px scrolls sideways: {scroll_width} px wide"
                )
        page.set_viewport_size({"width": AXE_WIDTHS[0], "height": HEIGHT})
        self.screens.check()

    def visit(self, path: str, name: str) -> None:
        self.page.goto(path)
        self.check(name)

    def report(self) -> None:
        assert not self.findings, "\n".join(self.findings)


@pytest.fixture
def tour(browser: Browser, seeded: Seeded, screenshot_dir: Path) -> Iterator[Tour]:
    context: BrowserContext = browser.new_context(
        base_url=seeded.server.url, viewport={"width": AXE_WIDTHS[0], "height": HEIGHT}
    )
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE))
    try:
        page = context.new_page()
        screens = Screens(page, screenshot_dir)
        screens.watch()
        yield Tour(page, screens)
    finally:
        context.close()


def sign_in_with_sms(tour: Tour, outbox: SmsOutbox, email: str, phone: str) -> None:
    outbox.mark()
    sign_in_with_password(tour.page, email)
    expect(tour.page).to_have_url(re.compile(r"/accounts/2fa/$"))
    tour.page.get_by_label("Verification code").fill(outbox.next_code(phone))
    tour.page.get_by_role("button", name="Verify and sign in").click()


def test_signed_out_pages_have_no_accessibility_violations(tour: Tour, seeded: Seeded) -> None:
    for path, name in (
        ("/accounts/login/", "sign-in"),
        ("/accounts/signup/", "sign-up"),
        ("/accounts/password/reset/", "password reset"),
        ("/accounts/sso/", "sign in with SSO"),
        (f"/invitations/{seeded.invitation}/", "invitation"),
        ("/invitations/no-such-invitation/", "invitation invalid"),
        ("/no-such-page/", "not found"),
    ):
        tour.visit(path, name)
    tour.report()


def test_sign_in_steps_and_member_pages_have_no_accessibility_violations(
    tour: Tour, seeded: Seeded
) -> None:
    page, outbox = tour.page, seeded.outbox
    outbox.mark()
    sign_in_with_password(page, a11y_seed.MEMBER)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    tour.check("second step: text message")
    tour.visit("/accounts/2fa/other/", "second step: other ways")
    tour.visit("/accounts/2fa/backup-code/", "second step: backup code")
    page.goto("/accounts/2fa/")
    page.get_by_label("Verification code").fill(outbox.next_code(a11y_seed.MEMBER_PHONE))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.get_by_test_id("signed-in-email")).to_have_text(a11y_seed.MEMBER)
    tour.check("home")
    open_user_menu(page, "Bob Builder")
    tour.check("home with the user menu open")
    for path, name in (
        ("/settings/security/", "password and two-factor authentication"),
        ("/settings/sessions/", "your sessions"),
        ("/settings/security/2fa/totp/", "authenticator app set-up"),
        ("/settings/security/2fa/webauthn/", "security keys"),
        ("/accounts/password/change/", "change password"),
        ("/account/members/", "forbidden"),
    ):
        tour.visit(path, name)
    tour.report()


def test_administrator_pages_have_no_accessibility_violations(tour: Tour, seeded: Seeded) -> None:
    page, outbox = tour.page, seeded.outbox
    sign_in_with_password(page, a11y_seed.ADMINISTRATOR)
    expect(page.get_by_test_id("signed-in-email")).to_have_text(a11y_seed.ADMINISTRATOR)
    for path, name in (
        ("/account/", "account & security"),
        ("/account/members/", "members"),
        ("/account/audit/", "audit log"),
        ("/account/audit/?event=signed_in", "audit log filtered"),
        ("/account/sso/", "single sign-on"),
        (f"/account/sso/connections/{seeded.connection}/", "SAML connection"),
        ("/account/applications/", "applications"),
        (f"/account/applications/{seeded.application}/", "application"),
    ):
        tour.visit(path, name)
    page.goto("/account/members/")
    page.get_by_role("row").filter(has_text=a11y_seed.MEMBER).get_by_role(
        "link", name="Reset 2FA"
    ).click()
    tour.check("reset a member's 2FA")
    tour.visit("/settings/security/2fa/enable/", "2FA set-up: number")
    page.get_by_label("Country").select_option("CH")
    page.get_by_label("Mobile number").fill("079 555 66 77")
    outbox.mark()
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/confirm/$"))
    tour.check("2FA set-up: code")
    page.get_by_label("Verification code").fill(outbox.next_code("+41795556677"))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/backup-codes/$"))
    tour.check("2FA set-up: backup codes")
    tour.report()


def test_forced_enrollment_pages_have_no_accessibility_violations(
    tour: Tour, seeded: Seeded
) -> None:
    page = tour.page
    sign_in_with_password(page, a11y_seed.ENROLLING)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/enroll/number/$"))
    tour.check("enrollment: number")
    tour.visit("/accounts/2fa/enroll/app/", "enrollment: authenticator app")
    tour.report()


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_on_white(css_color: str) -> float:
    """WCAG's contrast ratio of an opaque ``rgb(r, g, b)`` against white."""
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css_color)
    assert found, css_color
    assert found.group(4) in (None, "1"), f"a translucent focus ring: {css_color}"
    return 1.05 / (_luminance(tuple(float(v) for v in found.groups()[:3])) + 0.05)


def test_focus_ring_contrasts_3_to_1_with_white(tour: Tour) -> None:
    page = tour.page
    page.goto("/accounts/login/")
    for _ in range(3):  # the skip link, the brand, then the sign-in form's first field
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineColor, document.activeElement.outerHTML]; }"
        )
        assert style[0] != "none", f"no focus ring on {style[2][:80]}"
        ratio = contrast_on_white(style[1])
        assert ratio >= 3, f"focus ring {style[1]} is {ratio:.1f}:1 on white ({style[2][:80]})"


def test_user_menu_closes_with_escape(tour: Tour) -> None:
    page = tour.page
    sign_in_with_password(page, a11y_seed.ADMINISTRATOR)
    menu = page.locator("details.usermenu")
    open_user_menu(page, a11y_seed.ADMINISTRATOR)
    page.get_by_role("navigation", name="Your settings").get_by_role("link").first.focus()
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("summary")).to_be_focused()
