"""The "Your sessions" page and the offer after a change of factors (web/sessions.py;
ASVS 7.4.3, 7.5.2)."""

from __future__ import annotations

from django.test import Client

from tests.sessions.test_member_sessions import SAFARI, browser, signed_in
from twofold.sessions import member_sessions as sessions

PAGE = "/settings/sessions/"
END_OTHERS = "/settings/sessions/end-others"
KEEP_OTHERS = "/settings/sessions/keep-others"
SETTINGS = "/settings/security/"
OFFER = "Your sign-in methods changed"


def text(response) -> str:
    return response.content.decode()


def other_id(member, client: Client) -> int:
    return next(s.id for s in sessions.list_sessions(member.user, client.session) if not s.current)


def with_sms_code(client: Client, sms_outbox) -> Client:
    response = client.post("/accounts/2fa/", {"code": sms_outbox.last_code()})
    assert response["Location"] == "/"
    return client


def with_backup_code(client: Client, membership) -> Client:
    """The second factor of another device (the SMS resend cooldown keeps one code per 30 s)."""
    response = client.post("/accounts/2fa/backup-code/", {"code": membership.backup_codes[0]})
    assert response["Location"] == "/"
    return client


def test_asvs_7_5_2_page_lists_device_ip_times_and_this_device(member):
    laptop = browser(member.user.email, ip="203.0.113.7")
    browser(member.user.email, SAFARI, ip="198.51.100.9")
    page = text(laptop.get(PAGE))
    assert "Firefox on Windows" in page
    assert "This device" in page
    assert "Safari on iPhone" in page
    assert "198.51.100.9" in page
    assert page.count('aria-label="Sign out ') == 1  # the other one; this one: the menu's Sign out
    assert "Sign out all other sessions" in page
    allauths_address = text(laptop.get("/accounts/sessions/"))  # shows the same page
    assert "<h1>Your sessions</h1>" in allauths_address
    assert "Safari on iPhone" in allauths_address


def test_asvs_7_5_2_sign_out_one_session_ends_it_at_once(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    response = laptop.post(f"{PAGE}{other_id(member, laptop)}/end", follow=True)
    assert "Safari on iPhone (203.0.113.7) was signed out." in text(response)
    assert not signed_in(phone)
    assert signed_in(laptop)


def test_asvs_7_5_2_sign_out_all_other_sessions(member):
    laptop = browser(member.user.email)
    phones = [browser(member.user.email, SAFARI) for _ in range(2)]
    response = laptop.post(END_OTHERS, follow=True)
    assert "2 other sessions signed out." in text(response)
    assert "You are not signed in anywhere else." in text(response)
    assert not any(signed_in(phone) for phone in phones)


def test_session_of_someone_else_is_refused_and_stays(member, administrator):
    laptop = browser(member.user.email)
    theirs = browser(administrator.user.email)
    their_id = sessions.list_sessions(administrator.user, theirs.session)[0].id
    response = laptop.post(f"{PAGE}{their_id}/end", follow=True)
    assert "There is no such session among yours." in text(response)
    assert signed_in(theirs)


def test_actions_need_post_and_the_csrf_token(member):
    laptop, phone = browser(member.user.email), browser(member.user.email, SAFARI)
    assert laptop.get(END_OTHERS)["Location"] == PAGE
    assert laptop.get(f"{PAGE}{other_id(member, laptop)}/end")["Location"] == PAGE
    assert signed_in(phone)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = laptop.cookies
    assert strict.post(END_OTHERS).status_code == 403
    assert signed_in(phone)


def test_back_to_a_page_of_this_site_only(member):
    laptop = browser(member.user.email)
    assert laptop.post(KEEP_OTHERS, {"next": SETTINGS})["Location"] == SETTINGS
    assert laptop.post(KEEP_OTHERS, {"next": "https://evil.test/"})["Location"] == PAGE


# --- The offer after a change of factors (ASVS 7.4.3) ------------------------------------------


def test_asvs_7_4_3_new_backup_codes_offer_to_end_the_other_sessions(member_with_sms, sms_outbox):
    email = member_with_sms.user.email
    laptop = with_sms_code(browser(email), sms_outbox)
    phone = with_backup_code(browser(email, SAFARI), member_with_sms)
    assert OFFER not in text(laptop.get(SETTINGS))
    laptop.post("/settings/security/2fa/backup-codes/new/")
    page = text(laptop.get(SETTINGS))
    assert OFFER in page
    assert "signed in on 1 other device" in page
    response = laptop.post(END_OTHERS, {"next": SETTINGS}, follow=True)
    assert response.redirect_chain == [(SETTINGS, 302)]
    assert OFFER not in text(response)
    assert not signed_in(phone)
    assert signed_in(laptop)


def test_asvs_7_4_3_new_number_offers_it_and_keeping_them_ends_the_offer(
    member_with_sms, sms_outbox
):
    email = member_with_sms.user.email
    laptop = with_sms_code(browser(email), sms_outbox)
    phone = with_backup_code(browser(email, SAFARI), member_with_sms)
    laptop.post(
        "/settings/security/2fa/change-number/", {"country": "CH", "phone": "078 111 22 33"}
    )
    done = laptop.post(
        "/settings/security/2fa/confirm/",
        {"code": sms_outbox.last_code("+41781112233")},
        follow=True,
    )
    assert "Your number was changed." in text(done)
    assert OFFER in text(done)
    assert OFFER in text(laptop.get(PAGE))
    response = laptop.post(KEEP_OTHERS, {"next": SETTINGS}, follow=True)
    assert "Your other sessions stay signed in." in text(response)
    assert OFFER not in text(response)
    assert signed_in(phone)


def test_asvs_7_4_3_turning_two_factor_off_offers_it(member_with_sms, sms_outbox):
    email = member_with_sms.user.email
    laptop = with_sms_code(browser(email), sms_outbox)
    with_backup_code(browser(email, SAFARI), member_with_sms)
    done = laptop.post("/settings/security/2fa/disable/", follow=True)
    assert "Two-factor authentication is off." in text(done)
    assert OFFER in text(done)


def test_asvs_7_4_3_turning_two_factor_on_offers_it(member, sms_outbox):
    phone = browser(member.user.email, SAFARI)
    laptop = browser(member.user.email)
    laptop.post("/settings/security/2fa/enable/", {"country": "CH", "phone": "079 123 45 67"})
    laptop.post("/settings/security/2fa/confirm/", {"code": sms_outbox.last_code()})
    laptop.get("/settings/security/2fa/backup-codes/")
    done = laptop.post(
        "/settings/security/2fa/backup-codes/", {"saved_backup_codes": "on"}, follow=True
    )
    assert "Two-factor authentication is on." in text(done)
    assert OFFER in text(done)
    assert signed_in(phone)  # only offered: nothing ends without the member's choice


def test_signed_in_devices_page_lists_the_session(member):
    client = browser(member.user.email)
    response = client.get("/accounts/sessions/")
    assert response.status_code == 200
    assert b"Sign Out" in response.content or b"sign out" in response.content.lower()
