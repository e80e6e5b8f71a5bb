"""The members page's 2FA column and filter, and the reset of a member's 2FA from it."""

from __future__ import annotations

import re
import time
from urllib.parse import unquote

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import MOBILE, PASSWORD, age_authentication
from twofold import clock
from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.sms.models import SmsFactor
from twofold.organizations.models import Membership
from twofold.users.models import User

MEMBERS = "/account/members/"
MASKED_MOBILE = "+41 •• ••• •• 67"


def reset_url(membership: Membership) -> str:
    return f"/account/members/{membership.pk}/reset-two-factor"


def colleague(
    administrator: Membership, email: str, *, phone: str | None = None, backup_codes: int = 0
) -> Membership:
    """A member of the administrator's account, with SMS 2FA when ``phone`` is given."""
    user = User.objects.create_user(email, password=None)  # never signs in: no password hash
    membership = Membership.objects.create(user=user, organization=administrator.organization)
    if phone:
        SmsFactor.objects.create(user=user, phone=phone, enabled_at=clock.now())
    BackupCode.objects.bulk_create(
        BackupCode(user=user, code_hash="-", active=True, created_at=clock.now())
        for _ in range(backup_codes)
    )
    return membership


def row_of(page: str, email: str) -> str:
    found = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(email)}.*?</tr>", page, re.S)
    assert found, f"no row for {email}"
    return found.group(0)


def text(response: HttpResponse) -> str:
    return response.content.decode()


def last_message(response: HttpResponse) -> str:
    return [str(m) for m in get_messages(response.wsgi_request)][-1]  # type: ignore[attr-defined]


def signed_in_just_now(membership: Membership, sms_outbox=None) -> Client:
    """A browser in which the member signed in just now (password, and SMS code if on)."""
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": membership.user.email, "password": PASSWORD}
    )
    if response["Location"] == "/accounts/2fa/":
        response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response["Location"] == "/"
    client.get("/")  # the sign-in's message is shown and gone
    return client


# --- The 2FA column and the filter --------------------------------------------------------------


def test_members_page_shows_each_members_two_factor_status(
    administrator, member_with_sms, administrator_client
):
    colleague(administrator, "cleo@acme.test")

    page = text(administrator_client.get(MEMBERS))

    with_sms = row_of(page, "bob@acme.test")
    assert "SMS" in with_sms
    assert MASKED_MOBILE in with_sms
    assert "10 backup codes left" in with_sms
    assert '<span class="badge off">Off</span>' in row_of(page, "cleo@acme.test")
    assert MOBILE not in page
    assert "123 45 67" not in page


def test_members_page_warns_when_few_backup_codes_are_left(administrator, administrator_client):
    colleague(administrator, "cleo@acme.test", phone=MOBILE, backup_codes=1)

    row = row_of(text(administrator_client.get(MEMBERS)), "cleo@acme.test")

    assert '<small class="badge warn">1 backup code left</small>' in row


def test_members_page_shows_last_sign_in(administrator, administrator_client):
    cleo = colleague(administrator, "cleo@acme.test")
    cleo.user.last_login = clock.now().replace(year=2024, month=5, day=17, hour=9, minute=30)
    cleo.user.save(update_fields=["last_login"])

    page = text(administrator_client.get(MEMBERS))

    assert "17 May 2024, 09:30" in row_of(page, "cleo@acme.test")


def test_filter_without_2fa_lists_only_the_members_without_it(
    administrator, member_with_sms, administrator_client
):
    colleague(administrator, "cleo@acme.test")

    page = text(administrator_client.get(MEMBERS, {"two_factor": "off"}))

    assert "cleo@acme.test" in page
    assert "ada@acme.test" in page
    assert "bob@acme.test" not in page
    assert '<option value="off" selected>' in page


def test_filter_control_is_on_the_page_and_shows_everyone_by_default(
    member_with_sms, administrator_client
):
    page = text(administrator_client.get(MEMBERS))

    assert '<form method="get"' in page
    assert 'name="two_factor"' in page
    assert '<option value="" selected>Everyone</option>' in page
    assert "bob@acme.test" in page


def test_filter_with_an_unknown_value_shows_everyone(member_with_sms, administrator_client):
    page = text(administrator_client.get(MEMBERS, {"two_factor": "maybe"}))

    assert "bob@acme.test" in page
    assert "ada@acme.test" in page


def test_filter_says_so_when_everyone_has_2fa(administrator_with_sms, member_with_sms):
    client = Client()
    client.force_login(administrator_with_sms.user)

    page = text(client.get(MEMBERS, {"two_factor": "off"}))

    assert "Everyone in the account has two-factor authentication." in page


def queries_to_list_members(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [MEMBERS, f"{MEMBERS}?two_factor=off", "/api/v1/members"])
def test_listing_members_takes_no_more_queries_for_6_members_than_for_2(
    administrator, administrator_client, url
):
    colleague(administrator, "m0@acme.test", phone="+41790000000", backup_codes=2)
    queries_to_list_members(administrator_client, url)  # session and caches warmed up
    with_2 = queries_to_list_members(administrator_client, url)

    for n in range(1, 5):
        colleague(administrator, f"m{n}@acme.test", phone=f"+4179000000{n}" if n % 2 else None)
    with_6 = queries_to_list_members(administrator_client, url)

    assert with_6 == with_2


# --- Reset ----------------------------------------------------------------------------------------


def test_reset_button_is_offered_for_colleagues_with_2fa_only(
    administrator_with_sms, member_with_sms
):
    cleo = colleague(administrator_with_sms, "cleo@acme.test")
    client = Client()
    client.force_login(administrator_with_sms.user)

    page = text(client.get(MEMBERS))

    assert f'href="{reset_url(member_with_sms)}"' in page
    assert reset_url(cleo) not in page
    assert reset_url(administrator_with_sms) not in page  # not for yourself


def test_reset_from_the_members_page_asks_for_confirmation_then_resets(
    administrator, member_with_sms, sms_outbox
):
    client = signed_in_just_now(administrator)
    member_browser = signed_in_just_now(member_with_sms, sms_outbox)

    confirmation = client.get(reset_url(member_with_sms))

    assert confirmation.status_code == 200
    page = text(confirmation)
    assert MASKED_MOBILE in page
    assert "10 backup codes stop working" in page
    assert "signed out everywhere" in page
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()

    done = client.post(reset_url(member_with_sms))

    assert done["Location"] == MEMBERS
    assert last_message(done) == (
        "Two-factor authentication of bob@acme.test was reset. "
        "They were signed out everywhere and told by email."
    )
    assert not SmsFactor.objects.filter(user=member_with_sms.user).exists()
    assert not BackupCode.objects.filter(user=member_with_sms.user).exists()
    assert member_browser.get("/api/v1/me").status_code == 401


def test_reset_page_sends_an_administrator_who_signed_in_long_ago_to_reauthenticate(
    administrator, member_with_sms
):
    client = signed_in_just_now(administrator)
    age_authentication(client)

    shown = client.get(reset_url(member_with_sms))
    posted = client.post(reset_url(member_with_sms))

    for response in (shown, posted):
        assert response["Location"].startswith("/accounts/reauthenticate/?next=")
        assert unquote(response["Location"]).endswith(f"next={reset_url(member_with_sms)}")
    assert SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_reset_resumes_after_the_administrator_confirms_their_password(
    administrator, member_with_sms
):
    client = signed_in_just_now(administrator)
    age_authentication(client)
    client.post(reset_url(member_with_sms))  # suspended until re-authentication

    resumed = client.post(
        f"/accounts/reauthenticate/?next={reset_url(member_with_sms)}", {"password": PASSWORD}
    )

    assert resumed["Location"] == MEMBERS
    assert not SmsFactor.objects.filter(user=member_with_sms.user).exists()


def test_resetting_yourself_on_the_page_says_where_to_turn_2fa_off(administrator_with_sms, member):
    client = Client()
    client.force_login(administrator_with_sms.user)
    session = client.session  # signed in just now, as the sign-in form would record
    session["account_authentication_methods"] = [{"method": "password", "at": time.time()}]
    session["account_authentication_methods_user"] = str(administrator_with_sms.user.pk)
    session.save()

    for send in (client.get, client.post):
        response = send(reset_url(administrator_with_sms))
        assert response["Location"] == MEMBERS
        message = last_message(response)
        assert message.startswith("You cannot reset your own two-factor authentication.")
        client.get(MEMBERS)  # the message is shown and gone
    assert SmsFactor.objects.filter(user=administrator_with_sms.user).exists()


def test_resetting_a_member_without_2fa_says_so(administrator, member):
    client = signed_in_just_now(administrator)

    response = client.post(reset_url(member))

    assert response["Location"] == MEMBERS
    assert last_message(response) == "bob@acme.test has no two-factor authentication to reset."
