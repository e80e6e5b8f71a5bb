"""The foundation journey in Chromium against a real server: sign up, verify the email by code,
invite a member, the member accepts and signs in, everyone signs out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Mailbox, Screens, TwofoldServer

pytestmark = pytest.mark.browser

SIGN_IN = re.compile(r"/accounts/login/(\?.*)?$")
# allauth's email verification code: two groups of four, alone on their line (KDPB-JZSV).
VERIFICATION_CODE = re.compile(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", re.MULTILINE)


def open_user_menu(page: Page, who: str) -> Locator:
    """Open the ``<details class="usermenu">`` whose summary names ``who``; return its menu."""
    menu = page.locator("details.usermenu")
    expect(menu.locator("summary")).to_contain_text(who)
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()
    nav = menu.get_by_role("navigation", name="Your settings")
    expect(nav).to_be_visible()
    return nav


def sign_out(page: Page, who: str) -> None:
    """Sign out from the user menu, confirming on allauth's page should it ask."""
    open_user_menu(page, who).get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/(login|logout)/"))
    if "/accounts/logout/" in page.url:
        page.get_by_role("main").get_by_role("button", name="Sign Out").click()
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


def test_administrator_signs_up_invites_a_member_who_signs_in(
    page: Page, screens: Screens, mailbox: Mailbox, twofold_server: TwofoldServer
) -> None:
    admin = "ada@journey.test"
    member = "member@journey.test"
    member_password = "a different passphrase for bob"

    # 1. A stranger lands on the sign-in page, goes to sign-up and creates an account.
    page.goto("/")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screens.shot("sign-in")

    page.get_by_role("link", name="Sign up", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Email").fill(admin)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Company or account name").fill("Journey Inc.")
    screens.shot("sign-up")
    page.get_by_role("button", name="Sign Up").click()

    # 2. Email verification is mandatory, by a code sent by email.
    expect(page.get_by_role("heading", name="Enter Email Verification Code")).to_be_visible()
    screens.shot("verify-email")
    body = mailbox.text(mailbox.latest_mail(admin))
    codes = VERIFICATION_CODE.findall(body)
    assert len(codes) == 1, f"expected one verification code in:\n{body}"
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(f"{twofold_server.url}/")
    expect(page.get_by_test_id("signed-in-email")).to_have_text(admin)
    screens.shot("home-administrator")

    # 3. The administrator invites a member from the user menu's "Members".
    menu = open_user_menu(page, admin)
    screens.shot("user-menu-administrator")
    menu.get_by_role("link", name="Members").click()
    expect(page).to_have_url(f"{twofold_server.url}/account/members/")
    invite = page.get_by_role("region", name="Invite a member")
    invite.get_by_label("Email address").fill(member)
    invite.get_by_label("Role", exact=True).select_option("member")
    screens.shot("members-invite")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"An invitation was sent to {member}.")
    expect(page.get_by_role("region", name="Pending invitations")).to_contain_text(member)
    screens.shot("members-invitation-sent")

    invitation = mailbox.text(mailbox.latest_mail(member))
    links = re.findall(rf"{re.escape(twofold_server.url)}/invitations/[\w-]+/", invitation)
    assert len(links) == 1, f"expected one invitation link in:\n{invitation}"

    # 4. The administrator signs out.
    sign_out(page, admin)
    screens.shot("signed-out")

    # 5. The member accepts the invitation, then signs in with the chosen password.
    page.goto(links[0])
    expect(page.get_by_role("heading", name="Join Journey Inc.")).to_be_visible()
    page.get_by_label("Your name").fill("Bob Builder")
    page.get_by_label("Choose a password").fill(member_password)
    screens.shot("invitation-accept")
    page.get_by_role("button", name="Accept invitation").click()

    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("status")).to_contain_text("Welcome! Your password is set")
    screens.shot("invitation-accepted")
    page.get_by_label("Email").fill(member)
    page.get_by_label("Password").fill(member_password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{twofold_server.url}/")
    expect(page.get_by_test_id("signed-in-email")).to_have_text(member)
    menu = open_user_menu(page, "Bob Builder")
    expect(menu.get_by_role("link", name="Password and Two-Factor Authentication")).to_be_visible()
    expect(menu.get_by_role("link", name="Members")).to_have_count(0)
    expect(menu.get_by_role("link", name="Account & Security")).to_have_count(0)
    expect(page.get_by_role("main").get_by_role("link", name="Members")).to_have_count(0)
    screens.shot("user-menu-member")

    # 6. The member signs out; the home page asks to sign in again.
    sign_out(page, "Bob Builder")
    page.goto("/")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screens.shot("signed-out-home-asks-to-sign-in")


def test_wrong_password_shows_an_error_and_signs_nobody_in(
    page: Page, screens: Screens, twofold_server: TwofoldServer
) -> None:
    email = "olga@wrong-password.test"
    twofold_server.cli(
        "create-account",
        "--email",
        email,
        "--name",
        "Wrong Password Ltd",
        "--password-stdin",
        input=PASSWORD,
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD + " but wrong")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("main")).to_contain_text(
        "The email address and/or password you specified are not correct."
    )
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_label("Password")).to_have_value("")
    screens.shot("sign-in-wrong-password")
    assert "twofold-session" not in {c["name"] for c in page.context.cookies()}
    page.goto("/")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_test_id("signed-in-email")).to_have_count(0)
