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
