"""The SMS re-authentication page (``/accounts/2fa/reauthenticate/``) texts a code only when the
member asks for one with its button (a POST): opening it, from any link, texts nothing."""

from __future__ import annotations

from django.test import Client

from tests.conftest import SmsOutbox, freshly_signed_in
from twofold.organizations.models import Membership

PAGE = "/accounts/2fa/reauthenticate/?next=/settings/security/2fa/change-number/&method=sms"


def test_asvs_3_5_3_opening_the_reauthentication_page_texts_nothing(
    member_with_sms: Membership, sms_outbox: SmsOutbox
) -> None:
    client = freshly_signed_in(Client(), member_with_sms, second_factor="sms")
    # A link on another site: a cross-site navigation, as a browser sends it.
    page = client.get(
        PAGE, headers={"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.test/"}
    )

    assert page.status_code == 200
    assert sms_outbox.messages() == []
    shown = page.content.decode()
    assert "We sent a code" not in shown
    assert (
        '<button type="submit" name="resend" value="1" class="secondary">Send code</button>'
        in shown
    )
    assert 'method="post"' in shown


def test_asvs_3_5_3_the_code_is_texted_when_the_member_presses_send(
    member_with_sms: Membership, sms_outbox: SmsOutbox
) -> None:
    client = freshly_signed_in(Client(), member_with_sms, second_factor="sms")
    sent = client.post(PAGE, {"resend": "1", "method": "sms"})

    assert len(sms_outbox.messages()) == 1
    assert "We sent a code to" in sent.content.decode()
    done = client.post(PAGE, {"method": "sms", "code": sms_outbox.last_code()})
    assert done.status_code == 302
    assert done["Location"] == "/settings/security/2fa/change-number/"


def test_confirm_access_speaks_twofolds_words_and_offers_the_second_factor_only_to_who_has_one(
    member_with_totp: Membership,
) -> None:
    """Issue 19: allauth's generic "Confirm Access" page, in Twofold's words."""
    with_app = Client()
    with_app.force_login(member_with_totp.user)
    shown = with_app.get("/accounts/reauthenticate/?next=/settings/security/").content.decode()
    assert "Confirm it is you" in shown
    assert "Confirm Access" not in shown
    assert "reauthenticate to safeguard" not in shown
    assert (
        '/accounts/2fa/reauthenticate/?next=/settings/security/">Use your two-factor method'
        in shown
    )


def test_confirm_access_offers_no_second_factor_to_a_member_without_one(
    member: Membership,
) -> None:
    client = Client()
    client.force_login(member.user)
    shown = client.get("/accounts/reauthenticate/?next=/settings/security/").content.decode()
    assert "Confirm it is you" in shown
    assert "Use your two-factor method" not in shown
