"""A resend that fails says so, once, and never also that a text was sent: on the second-factor
step, the settings' number confirmation, the forced enrollment and the re-authentication."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD, freshly_signed_in, give_sms_factor, require_two_factor
from tests.sms.fakes import closed_port_url
from twofold.config.sms import WebhookSettings
from twofold.organizations.models import Membership
from twofold.sms.delivery import UNAVAILABLE

NUMBER = {"country": "CH", "phone": "0791112233"}
REAUTHENTICATE = "/accounts/2fa/reauthenticate/?next=/settings/security/&method=sms"


@pytest.fixture
def provider(settings: Any) -> Callable[[], None]:
    """No cooldown in the way; ``provider()`` takes the SMS provider down (connection refused)."""
    settings.TWOFOLD = replace(settings.TWOFOLD, sms_resend_cooldown=0)

    def down() -> None:
        webhook = WebhookSettings(closed_port_url(), {"to": "{to}", "body": "{body}"}, None, None)
        sms = replace(settings.TWOFOLD.sms, gateways=("webhook",), webhook=webhook, timeout=0.5)
        settings.TWOFOLD = replace(settings.TWOFOLD, sms=sms)

    return down


def _sign_in(member: Membership) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": member.user.email, "password": PASSWORD})
    return client


def at_the_second_factor_step(member: Membership) -> tuple[Client, str]:
    give_sms_factor(member)
    return _sign_in(member), "/accounts/2fa/resend/"


def confirming_a_number_in_the_settings(member: Membership) -> tuple[Client, str]:
    client = freshly_signed_in(Client(), member)
    assert client.post("/settings/security/2fa/enable/", NUMBER).status_code == 302
    return client, "/settings/security/2fa/confirm/resend/"


def confirming_a_number_at_the_forced_enrollment(member: Membership) -> tuple[Client, str]:
    require_two_factor(member.organization)
    client = _sign_in(member)
    assert client.post("/accounts/2fa/enroll/number/", NUMBER).status_code == 302
    return client, "/accounts/2fa/enroll/confirm/resend/"


PAGES = {
    "second-factor step": at_the_second_factor_step,
    "settings": confirming_a_number_in_the_settings,
    "forced enrollment": confirming_a_number_at_the_forced_enrollment,
}


@pytest.mark.parametrize("page", PAGES)
def test_a_failed_resend_says_only_that_the_text_was_not_sent(
    member: Membership, sms_outbox: Any, provider: Callable[[], None], page: str
) -> None:
    client, resend = PAGES[page](member)
    assert len(sms_outbox.messages()) == 1  # the first code went out
    provider()

    shown = client.post(resend, follow=True).content.decode()

    assert shown.count(str(UNAVAILABLE)) == 1, shown
    assert "We sent a text message" not in shown
    assert "on its way" not in shown
    assert "still works" in shown  # the first code can still be typed


def test_a_failed_first_code_and_resend_say_there_is_no_code_yet(
    member: Membership, sms_outbox: Any, provider: Callable[[], None]
) -> None:
    give_sms_factor(member)
    provider()
    client = _sign_in(member)  # the first text fails

    shown = client.post("/accounts/2fa/resend/", follow=True).content.decode()

    assert sms_outbox.messages() == []
    assert shown.count(str(UNAVAILABLE)) == 1, shown
    assert "We sent a text message" not in shown
    assert "no code to enter" in shown


def test_a_failed_resend_at_the_reauthentication_says_only_that(
    member: Membership, sms_outbox: Any, provider: Callable[[], None]
) -> None:
    give_sms_factor(member)
    client = freshly_signed_in(Client(), member, second_factor="sms")
    client.post(REAUTHENTICATE, {"method": "sms", "resend": "1"})
    assert len(sms_outbox.messages()) == 1
    provider()

    shown = client.post(REAUTHENTICATE, {"method": "sms", "resend": "1"}).content.decode()

    assert shown.count(str(UNAVAILABLE)) == 1, shown
    assert "We sent a code" not in shown
    assert "still works" in shown
