"""Rough edges a newcomer hit (issue 19), in Chromium against a real server: the sign-in page
after an accepted invitation, deactivating a member (a confirmation, then a page that says what
happened), and signing in again within the resend cooldown (a countdown on a button that looks
disabled, and why no code came), and the grace period's banner after "Later"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Mailbox, Screens, TwofoldServer
from tests.e2e.test_foundation_journey import SIGN_IN, open_user_menu, sign_out
from tests.e2e.test_mandatory_two_factor_journey import (
    INVITATION_LINK,
    MEMBERS,
    confirm_password_if_asked,
    expect_message,
    turn_on_two_factor,
)
from tests.e2e.test_two_factor_journey import (
    SECOND_FACTOR,
    SmsOutbox,
    expect_signed_in,
    sign_in_with_password,
)

pytestmark = pytest.mark.browser

ACCOUNT = "Edges AG"
ADMIN = "ada@edges.test"
DORA = "dora@edges.test"
EVE = "eve@cooldown.test"  # signs in twice within the resend cooldown
GRACE_ADMIN = "gus@grace.test"
GRETA = "greta@grace.test"  # says "Later" during the grace period
ENABLE = re.compile(r"/settings/security/2fa/enable/(\?.*)?$")


@pytest.fixture
def outbox(twofold_server: TwofoldServer) -> SmsOutbox:
    return SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")


def test_invited_member_signs_in_prefilled_then_is_deactivated_with_a_confirmation(
    page: Page, screens: Screens, mailbox: Mailbox, twofold_server: TwofoldServer
) -> None:
    twofold_server.cli(
        "create-account", "--email", ADMIN, "--name", ACCOUNT, "--password-stdin", input=PASSWORD
    )
    sign_in_with_password(page, ADMIN)
    expect_signed_in(page, twofold_server.url, ADMIN)
    open_user_menu(page, ADMIN).get_by_role("link", name="Members").click()
    invite = page.get_by_role("region", name="Invite a member")
    invite.get_by_label("Email address").fill(DORA)
    invite.get_by_role("button", name="Send invitation").click()
    expect_message(page, f"An invitation was sent to {DORA}.")
    sign_out(page, ADMIN)

    # 1. Accepting the invitation leads to a sign-in page with the address, not "sign up first".
    links = re.findall(INVITATION_LINK, mailbox.text(mailbox.latest_mail(DORA)))
    page.goto(links[0])
    page.get_by_label("Your name").fill("Dora Dean")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Accept invitation").click()
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(DORA)
    expect(page.get_by_role("main")).not_to_contain_text("sign up")
    expect(page.get_by_label("Keep me signed in on this browser")).to_be_visible()
    screens.shot("edges-sign-in-after-invitation")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect_signed_in(page, twofold_server.url, DORA)
    sign_out(page, "Dora Dean")

    # 2. "Deactivate" asks first; only the confirmation's button deactivates.
    sign_in_with_password(page, ADMIN)
    open_user_menu(page, ADMIN).get_by_role("link", name="Members").click()
    expect(page).to_have_url(MEMBERS)
    row = page.get_by_role("row").filter(has_text=DORA)
    row.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name=f"Deactivate {DORA}?")).to_be_visible()
    screens.shot("edges-deactivate-confirm")
    page.get_by_role("main").get_by_role("button", name="Deactivate").click()
    expect_message(page, f"{DORA} was deactivated and signed out everywhere.")
    sign_out(page, ADMIN)

    # 3. The deactivated member is told what happened and whom to ask.
    sign_in_with_password(page, DORA)
    expect(page.get_by_role("heading", name="Your account is deactivated")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("ask an administrator of your account")
    screens.shot("edges-deactivated")


def test_signing_in_again_within_the_cooldown_counts_down_on_a_disabled_button(
    page: Page, browser: Browser, outbox: SmsOutbox, twofold_server: TwofoldServer
) -> None:
    twofold_server.cli(
        "create-account",
        "--email",
        EVE,
        "--name",
        "Cooldown AG",
        "--password-stdin",
        input=PASSWORD,
    )
    sign_in_with_password(page, EVE)
    open_user_menu(page, EVE).get_by_role(
        "link", name="Password and Two-Factor Authentication"
    ).click()
    page.get_by_role("link", name="Set up text messages").click()
    confirm_password_if_asked(page, ENABLE)
    turn_on_two_factor(page, outbox, "078 333 44 55", "+41783334455")
    sign_out(page, EVE)

    outbox.mark()
    sign_in_with_password(page, EVE)
    expect(page).to_have_url(SECOND_FACTOR)
    resend = page.get_by_role("button", name=re.compile(r"^Resend code"))
    expect(resend).to_be_disabled()
    expect(resend).to_contain_text("(in ")
    assert resend.evaluate("b => getComputedStyle(b).cursor") == "not-allowed"

    # The same member again, in another browser, within the cooldown: told why, no dead end.
    other = browser.new_context(base_url=twofold_server.url)
    try:
        again = other.new_page()
        sign_in_with_password(again, EVE)
        expect(again).to_have_url(SECOND_FACTOR)
        main = again.get_by_role("main")
        expect(main).to_contain_text("earlier sign-in")
        expect(main).to_contain_text("when the countdown ends")
        expect(again.get_by_role("button", name=re.compile(r"^Resend code"))).to_be_disabled()
    finally:
        other.close()


def test_after_later_every_page_shows_the_deadline(
    page: Page, mailbox: Mailbox, outbox: SmsOutbox, twofold_server: TwofoldServer
) -> None:
    twofold_server.cli(
        "create-account",
        "--email",
        GRACE_ADMIN,
        "--name",
        "Grace AG",
        "--password-stdin",
        input=PASSWORD,
    )
    sign_in_with_password(page, GRACE_ADMIN)
    open_user_menu(page, GRACE_ADMIN).get_by_role(
        "link", name="Password and Two-Factor Authentication"
    ).click()
    page.get_by_role("link", name="Set up text messages").click()
    confirm_password_if_asked(page, ENABLE)
    turn_on_two_factor(page, outbox, "078 444 55 66", "+41784445566")
    # The policy through the API, as the page's own script-free form is another test's.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"].endswith("twofold-csrf"))
    answer = page.context.request.patch(
        "/api/v1/organization/security",
        data={"require_two_factor": True, "two_factor_grace_days": 7},
        headers={"X-CSRFToken": csrf, "Referer": twofold_server.url + "/"},
    )
    assert answer.status == 200, answer.text()
    open_user_menu(page, GRACE_ADMIN).get_by_role("link", name="Members").click()
    invite = page.get_by_role("region", name="Invite a member")
    invite.get_by_label("Email address").fill(GRETA)
    invite.get_by_role("button", name="Send invitation").click()
    expect_message(page, f"An invitation was sent to {GRETA}.")
    sign_out(page, GRACE_ADMIN)

    links = re.findall(INVITATION_LINK, mailbox.text(mailbox.latest_mail(GRETA)))
    page.goto(links[0])
    page.get_by_label("Your name").fill("Greta Gray")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Accept invitation").click()
    sign_in_with_password(page, GRETA)
    page.get_by_role("button", name="Later").click()

    for path in ("/", "/settings/security/", "/settings/sessions/"):
        page.goto(path)
        banner = page.locator(".grace-banner")
        expect(banner).to_contain_text("Your account requires two-factor authentication.")
        expect(banner).to_contain_text("Set it up by ")
        expect(banner.get_by_role("link", name="Set it up now")).to_be_visible()
