"""Mandatory two-factor authentication in Chromium against a real server (issue 4): an
administrator ticks "Mandatory Two-Factor-Authentication" (and is led through their own set-up
first); a member without 2FA signs in and sets it up before reaching anything else; the
administrator resets another member's 2FA from the Members page; the audit log shows all of it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import Mailbox, Screens, TwofoldServer
from tests.e2e.test_foundation_journey import SIGN_IN, open_user_menu, sign_out
from tests.e2e.test_two_factor_journey import (
    SECOND_FACTOR,
    SmsOutbox,
    expect_signed_in,
    sign_in_with_password,
)

pytestmark = pytest.mark.browser

ACCOUNT = "Mandatory AG"
ADMIN = "ada@mandatory.test"
BOB = "bob@mandatory.test"  # turns 2FA on himself; the administrator resets it
CAROL = "carol@mandatory.test"  # without 2FA when the box is ticked

ACCOUNT_SETTINGS = re.compile(r"/account/$")
MEMBERS = re.compile(r"/account/members/$")
AUDIT_LOG = re.compile(r"/account/audit/$")
ENABLE = re.compile(r"/settings/security/2fa/enable/(\?.*)?$")
ENROLL = re.compile(r"/accounts/2fa/enroll/")
ENROLL_NUMBER = re.compile(r"/accounts/2fa/enroll/number/$")
INVITATION_LINK = r"/invitations/[\w-]+/"


@pytest.fixture
def outbox(twofold_server: TwofoldServer) -> SmsOutbox:
    return SmsOutbox(twofold_server.data_dir / "sms-outbox.jsonl")


def expect_message(page: Page, text: str) -> None:
    """One of the page's status messages (the flash messages, or a stage's notice) says ``text``."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def confirm_password_if_asked(page: Page, destination: re.Pattern[str]) -> None:
    """A stale sign-in first confirms the password (allauth's re-authentication page)."""
    page.wait_for_url(re.compile(rf"({destination.pattern})|(/accounts/reauthenticate/)"))
    if "/accounts/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(destination)


def save_backup_codes_and_activate(page: Page, button: str) -> None:
    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    expect(page.locator("ol.code-grid li code")).to_have_count(10)
    page.get_by_label("I have saved my backup codes").check()
    page.get_by_role("button", name=button).click()


def turn_on_two_factor(page: Page, outbox: SmsOutbox, number: str, e164: str) -> None:
    """The settings pages' set-up, from "Turn on two-factor authentication" to activation."""
    expect(page.get_by_role("heading", name="Turn on two-factor authentication")).to_be_visible()
    page.get_by_label("Country").select_option("CH")
    page.get_by_label("Mobile number").fill(number)
    outbox.mark()
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/confirm/$"))
    page.get_by_label("Verification code").fill(outbox.next_code(e164))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page).to_have_url(re.compile(r"/settings/security/2fa/backup-codes/$"))
    save_backup_codes_and_activate(page, "Activate two-factor authentication")


def sign_in_with_sms(page: Page, outbox: SmsOutbox, email: str, e164: str) -> None:
    outbox.mark()
    sign_in_with_password(page, email)
    expect(page).to_have_url(SECOND_FACTOR)
    page.get_by_label("Verification code").fill(outbox.next_code(e164))
    page.get_by_role("button", name="Verify and sign in").click()


def accept_invitation(page: Page, mailbox: Mailbox, email: str, name: str) -> None:
    invitation = mailbox.text(mailbox.latest_mail(email))
    links = re.findall(INVITATION_LINK, invitation)
    assert len(links) == 1, f"expected one invitation link in:\n{invitation}"
    page.goto(links[0])
    expect(page.get_by_role("heading", name=f"Join {ACCOUNT}")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Accept invitation").click()
    expect(page).to_have_url(SIGN_IN)


def member_row(page: Page, email: str) -> Locator:
    people = page.get_by_role("region", name=f"People in {ACCOUNT}")
    return people.get_by_role("row").filter(has_text=email)


def two_factor_cell(page: Page, email: str) -> Locator:
    return member_row(page, email).get_by_role("cell").nth(3)  # the "Two-factor" column


def expect_no_signed_in_page(page: Page, path: str) -> None:
    """During the enrollment stage ``path`` answers a redirect to the stage or to sign-in, never
    a signed-in page (asked with the browser's cookies, without leaving the stage)."""
    answer = page.context.request.get(path, max_redirects=0)
    assert answer.status == 302, f"{path} answered {answer.status} during enrollment"
    location = answer.headers["location"]
    assert SIGN_IN.search(location) or ENROLL.search(location), f"{path} → {location}"


def audit_row(
    page: Page, event: str, *, by: str | None = None, member: str | None = None
) -> Locator:
    """The rows of the audit log showing ``event``, done by ``by``, to ``member``."""
    rows = page.locator("table.audit-events tbody tr")
    rows = rows.filter(has=page.locator("td:nth-child(2)", has_text=event))
    if by is not None:
        rows = rows.filter(has=page.locator("td:nth-child(3)", has_text=by))
    if member is not None:
        rows = rows.filter(has=page.locator("td:nth-child(4)", has_text=member))
    return rows


def test_required_two_factor_enrolls_members_at_sign_in_and_administrator_resets_and_audits(
    page: Page,
    screens: Screens,
    mailbox: Mailbox,
    outbox: SmsOutbox,
    twofold_server: TwofoldServer,
) -> None:
    twofold_server.cli(
        "create-account", "--email", ADMIN, "--name", ACCOUNT, "--password-stdin", input=PASSWORD
    )

    # 1. The administrator invites Bob and Carol; Bob turns 2FA on himself.
    sign_in_with_password(page, ADMIN)
    expect_signed_in(page, twofold_server.url, ADMIN)
    open_user_menu(page, ADMIN).get_by_role("link", name="Members").click()
    expect(page).to_have_url(MEMBERS)
    invite = page.get_by_role("region", name="Invite a member")
    for email in (BOB, CAROL):
        invite.get_by_label("Email address").fill(email)
        invite.get_by_role("button", name="Send invitation").click()
        expect_message(page, f"An invitation was sent to {email}.")
    sign_out(page, ADMIN)

    accept_invitation(page, mailbox, BOB, "Bob Builder")
    sign_in_with_password(page, BOB)
    expect_signed_in(page, twofold_server.url, BOB)
    open_user_menu(page, "Bob Builder").get_by_role(
        "link", name="Password and Two-Factor Authentication"
    ).click()
    page.get_by_role("link", name="Set up text messages").click()
    confirm_password_if_asked(page, ENABLE)
    turn_on_two_factor(page, outbox, "078 222 33 44", "+41782223344")
    expect_message(page, "Two-factor authentication is on.")
    sign_out(page, "Bob Builder")
    accept_invitation(page, mailbox, CAROL, "Carol Chen")

    # 2. The administrator ticks the box; without 2FA of their own, they set it up first.
    sign_in_with_password(page, ADMIN)
    expect_signed_in(page, twofold_server.url, ADMIN)
    open_user_menu(page, ADMIN).get_by_role("link", name="Account & Security").click()
    expect(page).to_have_url(ACCOUNT_SETTINGS)
    mandatory = page.get_by_role("region", name="Mandatory Two-Factor-Authentication")
    tickbox = mandatory.get_by_role("checkbox", name="Require two-factor authentication")
    expect(tickbox).not_to_be_checked()
    tickbox.check()
    mandatory.get_by_label("Days members may postpone setting it up").fill("0")
    screens.shot("mandatory-tick")
    mandatory.get_by_role("button", name="Save the policy").click()
    confirm_password_if_asked(page, ENABLE)
    turn_on_two_factor(page, outbox, "079 111 22 33", "+41791112233")

    expect(page).to_have_url(ACCOUNT_SETTINGS)  # back where the administrator started
    expect_message(page, "The mandatory two-factor authentication you asked for is on")
    expect(tickbox).to_be_checked()  # her intent was kept and saved after her own set-up
    expect(mandatory).to_contain_text("Required since")
    expect(mandatory).to_contain_text("1 member has not set it up yet.")
    mandatory.get_by_role("button", name="Sign out members without 2FA now").click()
    expect_message(page, "No member without two-factor authentication was signed in.")
    screens.shot("mandatory-required")
    sign_out(page, ADMIN)

    # 3. Carol signs in with her password and is taken through enrollment before anything else.
    sign_in_with_password(page, CAROL)
    expect(page).to_have_url(ENROLL_NUMBER)
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect_message(page, "Your account requires two-factor authentication.")
    expect(page.get_by_role("button", name="Later")).to_have_count(0)  # no grace period
    expect(page.locator("details.usermenu")).to_have_count(0)
    screens.shot("mandatory-enroll-number")
    for path in ("/", "/settings/security/", "/account/members/"):
        expect_no_signed_in_page(page, path)
    page.goto("/settings/security/")
    expect(page).to_have_url(re.compile(rf"({SIGN_IN.pattern})|({ENROLL.pattern})"))
    expect(page.get_by_test_id("signed-in-email")).to_have_count(0)
    expect(page.locator("details.usermenu")).to_have_count(0)
    page.goto("/accounts/2fa/enroll/")
    if SIGN_IN.search(page.url):  # leaving the stage dropped the pending sign-in: start again
        sign_in_with_password(page, CAROL)
    expect(page).to_have_url(ENROLL_NUMBER)

    page.get_by_label("Country").select_option("CH")
    page.get_by_label("Mobile number").fill("076 333 44 55")
    outbox.mark()
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/enroll/confirm/$"))
    expect(page.get_by_role("main")).to_contain_text("+41 76 333 44 55")
    expect_no_signed_in_page(page, "/")
    page.get_by_label("Verification code").fill(outbox.next_code("+41763334455"))
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/enroll/backup-codes/$"))
    screens.shot("mandatory-enroll-backup-codes")
    expect_no_signed_in_page(page, "/")
    save_backup_codes_and_activate(page, "Activate and sign in")
    expect_signed_in(page, twofold_server.url, CAROL)
    expect_message(page, "Two-factor authentication is on.")
    screens.shot("mandatory-enrolled-signed-in")
    sign_out(page, "Carol Chen")

    # 4. The administrator resets Bob's 2FA from the Members page.
    sign_in_with_sms(page, outbox, ADMIN, "+41791112233")
    expect_signed_in(page, twofold_server.url, ADMIN)
    open_user_menu(page, ADMIN).get_by_role("link", name="Members").click()
    expect(page).to_have_url(MEMBERS)
    expect(two_factor_cell(page, CAROL)).to_contain_text("+41 •• ••• •• 55")
    expect(two_factor_cell(page, BOB)).to_contain_text("+41 •• ••• •• 44")
    expect(two_factor_cell(page, BOB)).to_contain_text("10 backup codes left")
    member_row(page, BOB).get_by_role("link", name="Reset 2FA").click()
    confirm_password_if_asked(page, re.compile(r"/account/members/\d+/reset-two-factor$"))
    expect(
        page.get_by_role("heading", name="Reset two-factor authentication of Bob Builder?")
    ).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("at their next sign-in they set it up again")
    screens.shot("mandatory-reset-confirm")
    page.get_by_role("button", name="Reset two-factor authentication").click()
    expect(page).to_have_url(MEMBERS)
    expect_message(page, f"Two-factor authentication of {BOB} was reset.")
    expect(two_factor_cell(page, BOB)).to_have_text("Off")
    expect(member_row(page, BOB).get_by_role("link", name="Reset 2FA")).to_have_count(0)
    expect(two_factor_cell(page, CAROL)).to_contain_text("+41 •• ••• •• 55")
    screens.shot("mandatory-reset-done")
    page.get_by_label("Show").select_option("off")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/account/members/\?two_factor=off$"))
    people = page.get_by_role("region", name=f"People in {ACCOUNT}")
    expect(people.locator("tbody tr")).to_have_count(1)
    expect(member_row(page, BOB)).to_have_count(1)
    reset_mail = [m for m in mailbox.to(BOB) if "reset" in str(m["Subject"])]
    assert len(reset_mail) == 1, [str(m["Subject"]) for m in mailbox.to(BOB)]
    assert ADMIN in mailbox.text(reset_mail[0])

    # 5. The audit log shows all of it.
    open_user_menu(page, ADMIN).get_by_role("link", name="Account & Security").click()
    page.get_by_role("link", name="Open the audit log").click()
    expect(page).to_have_url(AUDIT_LOG)
    expect(audit_row(page, "Security policy changed", by=ADMIN)).to_have_count(1)
    for member in (ADMIN, BOB, CAROL):
        expect(audit_row(page, "Two-factor authentication enabled", member=member)).to_have_count(1)
        expect(audit_row(page, "Signed in", member=member).first).to_be_visible()
    reset = audit_row(page, "Two-factor authentication reset", by=ADMIN, member=BOB)
    expect(reset).to_have_count(1)
    expect(reset).to_contain_text("+41 •• ••• •• 44")
    expect(reset).not_to_contain_text("222 33 44")  # never the full number
    signed_in_with_sms = audit_row(page, "Signed in", member=ADMIN).filter(
        has_text="Password and text message"  # the factors in words, not "pwd+sms"
    )
    expect(signed_in_with_sms.first).to_be_visible()
    screens.shot("mandatory-audit-log")

    # 6. The account requires 2FA: Bob sets it up again at his next sign-in.
    sign_out(page, ADMIN)
    sign_in_with_password(page, BOB)
    expect(page).to_have_url(ENROLL_NUMBER)
    expect(page.locator("details.usermenu")).to_have_count(0)
    expect_no_signed_in_page(page, "/")
