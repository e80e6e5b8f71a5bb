"""Settings pages in Chromium (issue 19): "Account & Security" saves the mandatory-2FA rule and
the methods with its one button; the SAML addresses and the authenticator app's set-up key are
copied by their copy buttons. The server and its people are those of the accessibility tour."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import a11y_seed
from tests.e2e.test_accessibility import Seeded, Tour, seeded, sign_in_with_sms, tour
from tests.e2e.test_two_factor_journey import sign_in_with_password

pytestmark = pytest.mark.browser
__all__ = ["seeded", "tour"]  # the fixtures, shared with the accessibility tour

MANDATORY = "Mandatory Two-Factor-Authentication"


def test_ticking_mandatory_2fa_and_unticking_sms_saves_both_with_one_button(
    tour: Tour, seeded: Seeded
) -> None:
    page = tour.page
    sign_in_with_sms(tour, seeded.outbox, a11y_seed.POLICY_ADMINISTRATOR, a11y_seed.POLICY_PHONE)
    page.goto("/account/")
    panel = page.get_by_role("region", name=MANDATORY)
    expect(panel.get_by_role("button")).to_have_count(1)
    sms = panel.get_by_role("checkbox", name="Text message (SMS)")
    box, label = sms.bounding_box(), panel.get_by_text("Text message (SMS)").bounding_box()
    assert box is not None
    assert label is not None
    assert label["x"] > box["x"] + box["width"] - 1, "the label is beside its box, after it"
    assert abs((box["y"] + box["height"] / 2) - (label["y"] + label["height"] / 2)) < 8

    panel.get_by_role("checkbox", name="Require two-factor authentication").check()
    sms.uncheck()
    panel.get_by_role("button", name="Save the policy").click()

    expect(
        page.get_by_role("status").filter(has_text="The security policy was saved.")
    ).to_be_visible()
    page.reload()
    panel = page.get_by_role("region", name=MANDATORY)
    expect(panel.get_by_role("checkbox", name="Require two-factor authentication")).to_be_checked()
    expect(panel.get_by_role("checkbox", name="Text message (SMS)")).not_to_be_checked()
    expect(panel.get_by_role("checkbox", name="Authenticator app")).to_be_checked()
    expect(panel).to_contain_text("Required since")


def copied(page: Page) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def test_copy_buttons_copy_the_saml_addresses_and_the_setup_key(tour: Tour, seeded: Seeded) -> None:
    page = tour.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in_with_password(page, a11y_seed.ADMINISTRATOR)
    expect(page.get_by_test_id("signed-in-email")).to_have_text(a11y_seed.ADMINISTRATOR)

    page.goto("/account/sso/")
    acs = page.locator("#next-sp-acs")
    expect(acs).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/accounts/saml/\w+/acs/$"))
    row = page.locator("dd").filter(has=acs)
    row.get_by_role("button", name="Copy").click()
    expect(row.get_by_role("status")).to_have_text("Copied")
    assert copied(page) == acs.inner_text()

    page.goto("/settings/security/2fa/totp/")
    page.get_by_text("Cannot scan? Type the key instead").click()
    key = page.locator("code.totp-key")
    expect(key).to_be_visible()
    shown = key.inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    page.locator(".totp-key-row").get_by_role("button", name="Copy").click()
    expect(page.locator(".totp-key-row").get_by_role("status")).to_have_text("Copied")
    assert copied(page) == shown.replace(" ", "")
