"""The Twilio gateway: the real ``twilio`` SDK against a local Twilio-compatible server."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import MOBILE
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, FAST, SENDER, twilio_gateway
from tests.sms.fakes import closed_port_url
from twofold.config.secret import Secret
from twofold.sms.gateway import InvalidRecipient, SmsError


def test_sends_to_from_and_body_with_basic_auth_and_returns_the_message_sid(twilio, fake_twilio):
    message_id = twilio.send(MOBILE, "Your code is 123456")

    assert message_id.startswith("SM")
    [request] = fake_twilio.server.received
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.form() == {"To": MOBILE, "From": SENDER, "Body": "Your code is 123456"}
    assert request.basic_auth() == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_messaging_service_sends_instead_of_a_from_number(fake_twilio):
    gateway = twilio_gateway(
        fake_twilio.server.url, from_="", messaging_service_sid="MG" + "1" * 32
    )
    try:
        gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
    form = fake_twilio.server.received[0].form()
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form


@pytest.mark.parametrize("mode", ["invalid", "not_mobile"])
def test_numbers_twilio_calls_invalid_or_not_mobile_are_invalid_recipients(
    twilio, fake_twilio, mode
):
    fake_twilio.mode = mode
    with pytest.raises(InvalidRecipient) as raised:
        twilio.send(MOBILE, "hello")
    assert raised.value.retryable is False
    assert MOBILE[1:] not in str(raised.value)  # Twilio's message quotes the number


def test_wrong_credentials_are_retryable_at_the_next_gateway(fake_twilio):
    gateway = twilio_gateway(fake_twilio.server.url, auth_token=Secret("wrong"))
    try:
        with pytest.raises(SmsError) as raised:
            gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
    assert raised.value.retryable is True
    assert "401" in str(raised.value)
    assert "20003" in str(raised.value)


@pytest.mark.parametrize("mode", ["500", "geo"])
def test_outages_and_account_permissions_are_retryable(twilio, fake_twilio, mode):
    fake_twilio.mode = mode
    with pytest.raises(SmsError) as raised:
        twilio.send(MOBILE, "hello")
    assert raised.value.retryable is True
    assert not isinstance(raised.value, InvalidRecipient)


def test_a_slow_answer_times_out_and_is_retryable(twilio, fake_twilio):
    fake_twilio.server.delay = 5
    started = time.monotonic()
    with pytest.raises(SmsError, match=f"no answer within {re.escape(f'{FAST:g}')} s") as raised:
        twilio.send(MOBILE, "hello")
    assert time.monotonic() - started < 2
    assert raised.value.retryable is True


def test_connection_refused_is_retryable():
    gateway = twilio_gateway(closed_port_url())
    with pytest.raises(SmsError, match="ConnectionError") as raised:
        gateway.send(MOBILE, "hello")
    assert raised.value.retryable is True


def test_twilio_region_and_edge_variables_do_not_redirect_the_sdk(fake_twilio, monkeypatch):
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    gateway = twilio_gateway(fake_twilio.server.url)
    try:
        gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
    assert len(fake_twilio.server.received) == 1
