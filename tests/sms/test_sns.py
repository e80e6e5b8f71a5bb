"""The SNS gateway: the real boto3 against moto's SNS server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.conftest import MOBILE
from tests.sms.conftest import sns_gateway
from tests.sms.fakes import FakeServer, closed_port_url
from twofold.sms.gateway import InvalidRecipient, SmsError

OPTED_OUT = "+41791234599"  # moto: numbers ending in 99 opted out


@pytest.fixture
def sns(moto_sns):
    gateway = moto_sns.gateway()
    yield gateway
    gateway.close()


def test_publishes_a_transactional_text_and_returns_the_message_id(sns, moto_sns):
    message_id = sns.send(MOBILE, "Your code is 123456")

    assert moto_sns.texts() == [(MOBILE, "Your code is 123456")]
    assert message_id in moto_sns.backend.sms_messages
    assert sns.attributes["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"


def test_the_sender_id_goes_with_the_text(moto_sns):
    gateway = moto_sns.gateway(sender_id="Twofold")
    try:
        gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
    assert gateway.attributes["AWS.SNS.SMS.SenderID"]["StringValue"] == "Twofold"
    assert moto_sns.texts() == [(MOBILE, "hello")]


def test_an_opted_out_number_is_not_published_and_is_retryable_elsewhere(sns, moto_sns):
    with pytest.raises(SmsError, match="opted out") as raised:
        sns.send(OPTED_OUT, "hello")
    assert raised.value.retryable is True
    assert moto_sns.texts() == []


def test_a_phone_number_sns_refuses_is_an_invalid_recipient(sns, moto_sns):
    with pytest.raises(InvalidRecipient):
        sns.send("+0791234567", "hello")  # not E.164: moto checks it as SNS does
    assert moto_sns.texts() == []


def test_connection_refused_is_retryable():
    gateway = sns_gateway(closed_port_url())
    try:
        with pytest.raises(SmsError, match="EndpointConnectionError") as raised:
            gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
    assert raised.value.retryable is True


def test_a_slow_endpoint_times_out_without_retrying():
    slow = FakeServer(lambda received: (200, {}), delay=5).start()
    gateway = sns_gateway(slow.url)
    try:
        with pytest.raises(SmsError, match="ReadTimeoutError") as raised:
            gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
        slow.stop()
    assert raised.value.retryable is True
    assert len(slow.received) == 1  # the SDK's own retries are off: the next gateway retries


def test_a_server_error_is_retryable():
    failing = FakeServer(lambda received: (500, b"<Error><Code>InternalError</Code></Error>"))
    failing.start()
    gateway = sns_gateway(failing.url)
    try:
        with pytest.raises(SmsError, match="500") as raised:
            gateway.send(MOBILE, "hello")
    finally:
        gateway.close()
        failing.stop()
    assert raised.value.retryable is True
