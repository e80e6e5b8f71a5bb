"""Sending with failover across gateways; every attempt recorded, never the full number."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MOBILE
from tests.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, FAST, REGION, SENDER
from tests.sms.fakes import closed_port_url
from twofold.config.secret import Secret
from twofold.config.sms import SnsSettings, TwilioSettings, WebhookSettings
from twofold.errors import FlowError, TooManyRequests, Unavailable
from twofold.sms import delivery
from twofold.sms.delivery import configured_gateways, send_sms
from twofold.sms.gateways.outbox import OutboxGateway
from twofold.sms.models import SmsDelivery

BODY = "Your Twofold code is 123456.\n\n@login.test #123456"

pytestmark = pytest.mark.django_db


@pytest.fixture
def use(sms_settings, tmp_path, moto_url):
    """Configure ``TWOFOLD_SMS_GATEWAYS`` as the names given; providers point at local fakes."""

    def configure(*gateways: str, twilio_url: str = "", webhook_url: str = "", **changes):
        return sms_settings(
            gateways=gateways,
            outbox=tmp_path / "outbox.jsonl",
            timeout=FAST,
            twilio=TwilioSettings(ACCOUNT_SID, Secret(AUTH_TOKEN), SENDER, "", twilio_url),
            sns=SnsSettings(REGION, "testing", Secret("testing"), moto_url, ""),
            webhook=WebhookSettings(webhook_url, {"to": "{to}", "body": "{body}"}, None, None),
            **changes,
        )

    return configure


def rows():
    return list(SmsDelivery.objects.order_by("id").values("gateway", "status", "error"))


def assert_no_full_number_stored():
    digits = MOBILE[1:]
    for row in SmsDelivery.objects.all():
        for field in SmsDelivery._meta.concrete_fields:
            value = str(field.value_from_object(row))
            assert digits not in value.replace(" ", ""), (field.name, value)


def test_the_first_gateway_delivers_and_its_attempt_is_recorded(use, member, fake_twilio):
    use("twilio", "sns", twilio_url=fake_twilio.server.url)

    sent = send_sms(MOBILE, BODY, purpose="enroll", user=member.user, ip="192.0.2.1")

    assert sent.status == "sent"
    assert sent.gateway == "twilio"
    assert sent.provider_message_id.startswith("SM")
    assert (sent.purpose, sent.user, sent.ip) == ("enroll", member.user, "192.0.2.1")
    assert sent.to_masked == "+41 •• ••• •• 67"
    assert fake_twilio.server.received[0].form()["Body"] == BODY
    assert_no_full_number_stored()


def test_a_failing_provider_fails_over_to_the_next(use, member, fake_twilio, moto_sns):
    fake_twilio.mode = "500"
    use("twilio", "sns", twilio_url=fake_twilio.server.url)

    sent = send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)

    assert sent.gateway == "sns"
    assert moto_sns.texts() == [(MOBILE, BODY)]
    assert rows() == [
        {"gateway": "twilio", "status": "failed", "error": "twilio: HTTP 500, error 500"},
        {"gateway": "sns", "status": "sent", "error": ""},
    ]
    assert_no_full_number_stored()


def test_connection_refused_fails_over_to_the_outbox(use, member, tmp_path):
    use("twilio", "outbox", twilio_url=closed_port_url())

    sent = send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)

    assert sent.gateway == "outbox"
    assert json.loads((tmp_path / "outbox.jsonl").read_text())["body"] == BODY
    assert rows()[0] == {
        "gateway": "twilio",
        "status": "failed",
        "error": "twilio: ConnectionError",
    }


def test_a_timeout_fails_over(use, member, webhook_server, moto_sns):
    webhook_server.delay = 5
    use("webhook", "sns", webhook_url=webhook_server.url)

    sent = send_sms(MOBILE, BODY, purpose="sign_in")

    assert sent.gateway == "sns"
    assert rows()[0]["error"] == f"webhook: no answer within {FAST:g} s"


def test_when_every_gateway_fails_the_service_is_unavailable(use, member, fake_twilio):
    fake_twilio.mode = "401"
    use("twilio", "webhook", twilio_url=fake_twilio.server.url, webhook_url=closed_port_url())

    with pytest.raises(Unavailable) as raised:
        send_sms(MOBILE, BODY, purpose="sign_in", user=member.user)

    assert raised.value.code == "sms_unavailable"
    assert raised.value.status == 503
    assert "try again in a minute" in raised.value.message
    assert [(r["gateway"], r["status"]) for r in rows()] == [
        ("twilio", "failed"),
        ("webhook", "failed"),
    ]
    assert_no_full_number_stored()


def test_an_invalid_recipient_does_not_fail_over(use, member, fake_twilio, moto_sns):
    fake_twilio.mode = "invalid"  # Twilio's message quotes the full number
    use("twilio", "sns", twilio_url=fake_twilio.server.url)

    with pytest.raises(FlowError) as raised:
        send_sms(MOBILE, BODY, purpose="enroll", user=member.user)

    assert (raised.value.code, raised.value.param) == ("phone_cannot_receive_sms", "phone")
    assert "cannot receive text messages" in raised.value.message
    assert moto_sns.texts() == []
    assert [r["gateway"] for r in rows()] == ["twilio"]
    assert_no_full_number_stored()


def test_a_final_refusal_stops_the_failover(use, member, webhook_server, tmp_path):
    webhook_server.answer = lambda received: (400, {"error": "bad request"})
    use("webhook", "outbox", webhook_url=webhook_server.url)

    with pytest.raises(Unavailable):
        send_sms(MOBILE, BODY, purpose="sign_in")

    assert rows() == [{"gateway": "webhook", "status": "failed", "error": "webhook: HTTP 400"}]
    assert not (tmp_path / "outbox.jsonl").exists()


def test_a_gateway_bug_fails_over_and_is_recorded(use, member, monkeypatch, tmp_path):
    class Broken:
        name = "broken"

        def send(self, to: str, body: str) -> str:
            raise KeyError(f"surprise for {to}")

    monkeypatch.setattr(
        delivery, "configured_gateways", lambda: [Broken(), OutboxGateway(tmp_path / "o.jsonl")]
    )

    sent = send_sms(MOBILE, BODY, purpose="sign_in")

    assert sent.gateway == "outbox"
    assert rows()[0] == {"gateway": "broken", "status": "failed", "error": "broken: KeyError"}


def test_limits_are_checked_before_any_gateway(use, member, sms_settings, tmp_path):
    use("outbox", limit_per_number=1)
    send_sms(MOBILE, BODY, purpose="sign_in")

    with pytest.raises(TooManyRequests) as raised:
        send_sms(MOBILE, BODY, purpose="sign_in")

    assert raised.value.code == "sms_limit"
    assert len((tmp_path / "outbox.jsonl").read_text().splitlines()) == 1
    assert SmsDelivery.objects.count() == 1


def test_the_country_allow_list_applies_to_every_send(use, member, tmp_path):
    use("outbox", countries=frozenset({"DE"}))

    with pytest.raises(FlowError, match="Switzerland"):
        send_sms(MOBILE, BODY, purpose="sign_in")

    assert not (tmp_path / "outbox.jsonl").exists()
    assert SmsDelivery.objects.count() == 0


def test_only_e164_numbers_are_accepted(use):
    use("outbox")
    with pytest.raises(ValueError, match=r"E\.164"):
        send_sms("079 123 45 67", BODY, purpose="sign_in")


def test_gateways_are_built_once_and_again_when_settings_change(use, fake_twilio):
    use("outbox")
    first = configured_gateways()
    assert [g.name for g in first] == ["outbox"]
    assert configured_gateways()[0] is first[0]

    use("twilio", "outbox", twilio_url=fake_twilio.server.url)

    assert [g.name for g in configured_gateways()] == ["twilio", "outbox"]
