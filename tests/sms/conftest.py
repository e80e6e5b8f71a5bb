"""SMS providers for the tests: fakes on 127.0.0.1 driven by the vendors' real SDKs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends

from tests.sms.fakes import FakeServer, FakeTwilio
from twofold.config.secret import Secret
from twofold.config.sms import SmsSettings
from twofold.sms import delivery
from twofold.sms.gateways.sns import SnsGateway
from twofold.sms.gateways.twilio import TwilioGateway

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests"
SENDER = "+15005550006"
REGION = "eu-central-1"
# seconds: the timeout of gateways under test; the fakes that time out wait 5 s. Not less: a
# busy machine once took over 0.5 s for a first answer of the local SNS fake.
FAST = 1.5


@pytest.fixture
def sms_settings(settings: Any) -> Iterator[Callable[..., SmsSettings]]:
    """Change ``settings.TWOFOLD.sms`` for one test; gateways built from it are closed after."""

    def configure(**changes: Any) -> SmsSettings:
        sms = dataclasses.replace(settings.TWOFOLD.sms, **changes)
        settings.TWOFOLD = dataclasses.replace(settings.TWOFOLD, sms=sms)
        return sms

    yield configure
    if delivery._built.cache_info().currsize:
        for gateway in delivery.configured_gateways():
            getattr(gateway, "close", lambda: None)()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
    fake.server.start()
    yield fake
    fake.server.stop()


def twilio_gateway(base_url: str, **options: Any) -> TwilioGateway:
    options = {"from_": SENDER, "auth_token": Secret(AUTH_TOKEN), "timeout": FAST, **options}
    return TwilioGateway(account_sid=ACCOUNT_SID, base_url=base_url, **options)


@pytest.fixture
def twilio(fake_twilio: FakeTwilio) -> Iterator[TwilioGateway]:
    gateway = twilio_gateway(fake_twilio.server.url)
    yield gateway
    gateway.close()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class MotoSns:
    """moto's SNS, started once per run; ``texts()`` are what it was asked to send."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
        self.backend.sms_messages.clear()

    def texts(self) -> list[tuple[str, str]]:
        return list(self.backend.sms_messages.values())

    def gateway(self, **options: Any) -> SnsGateway:
        return sns_gateway(self.url, **options)


def sns_gateway(endpoint_url: str, **options: Any) -> SnsGateway:
    credentials = {"access_key_id": "testing", "secret_access_key": Secret("testing")}
    options = {"region": REGION, "timeout": FAST, **credentials, **options}
    return SnsGateway(endpoint_url=endpoint_url, **options)


@pytest.fixture
def moto_sns(moto_url: str) -> MotoSns:
    return MotoSns(moto_url)


@pytest.fixture
def webhook_server() -> Iterator[FakeServer]:
    """A relay answering 200 ``{"id": "relay-1"}``; tests change ``answer`` or ``delay``."""
    server = FakeServer(lambda received: (200, {"id": "relay-1"})).start()
    yield server
    server.stop()
