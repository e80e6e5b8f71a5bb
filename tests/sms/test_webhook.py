"""The webhook gateway against a local HTTP relay."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest

from tests.conftest import MOBILE
from tests.sms.conftest import FAST
from tests.sms.fakes import closed_port_url
from twofold.config.secret import Secret
from twofold.config.sms import DEFAULT_WEBHOOK_BODY
from twofold.sms.gateway import SmsError
from twofold.sms.gateways.webhook import WebhookGateway, fill


def webhook(url, template=DEFAULT_WEBHOOK_BODY, **options):
    return WebhookGateway(url=url, body_template=json.loads(template), timeout=FAST, **options)


def test_posts_the_default_json_body_and_returns_the_relays_id(webhook_server):
    message_id = webhook(webhook_server.url + "/send").send(MOBILE, "Your code is 123456")

    [request] = webhook_server.received
    assert request.path == "/send"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {"to": MOBILE, "body": "Your code is 123456"}
    assert "Authorization" not in request.headers
    assert message_id == "relay-1"


def test_the_template_is_filled_inside_its_values_never_as_raw_text(webhook_server):
    template = '{"message": {"recipients": ["{to}"], "text": "{body}"}, "note": "to {to}", "n": 1}'
    tricky = 'a "quote", a {brace}, {to} and \\ backslash'

    webhook(webhook_server.url, template).send(MOBILE, tricky)

    assert webhook_server.received[0].json() == {
        "message": {"recipients": [MOBILE], "text": tricky},
        "note": f"to {MOBILE}",
        "n": 1,
    }


def test_fill_never_changes_the_template():
    template = {"to": "{to}"}
    assert fill(template, {"to": MOBILE, "body": ""}) == {"to": MOBILE}
    assert template == {"to": "{to}"}


def test_bearer_token_is_sent(webhook_server):
    webhook(webhook_server.url, bearer_token=Secret("s3cret")).send(MOBILE, "hi")
    assert webhook_server.received[0].headers["Authorization"] == "Bearer s3cret"


def test_basic_auth_is_sent(webhook_server):
    webhook(webhook_server.url, basic_auth=("relay", Secret("pa:ss"))).send(MOBILE, "hi")
    expected = base64.b64encode(b"relay:pa:ss").decode()
    assert webhook_server.received[0].headers["Authorization"] == f"Basic {expected}"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [({"message_id": 42}, "42"), ({"status": "ok"}, None), (b"accepted", None)],
)
def test_message_id_comes_from_the_answer_or_is_made_up(webhook_server, answer, expected):
    webhook_server.answer = lambda received: (202, answer)
    message_id = webhook(webhook_server.url).send(MOBILE, "hi")
    if expected is None:
        assert uuid.UUID(message_id).version == 4
    else:
        assert message_id == expected


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (408, True), (429, True), (500, True), (503, True),
     (302, True)],
)  # fmt: skip
def test_answers_other_than_2xx_fail_retryable_or_not(webhook_server, status, retryable):
    webhook_server.answer = lambda received: (status, {"error": "nope"})
    with pytest.raises(SmsError, match=f"HTTP {status}") as raised:
        webhook(webhook_server.url).send(MOBILE, "hi")
    assert raised.value.retryable is retryable


def test_redirects_are_not_followed(webhook_server):
    webhook_server.answer = lambda received: (307, {})
    with pytest.raises(SmsError):
        webhook(webhook_server.url, bearer_token=Secret("s3cret")).send(MOBILE, "hi")
    assert len(webhook_server.received) == 1


def test_a_relay_slower_than_the_timeout_is_retryable(webhook_server):
    webhook_server.delay = 5
    with pytest.raises(SmsError, match=f"no answer within {re.escape(f'{FAST:g}')} s") as raised:
        webhook(webhook_server.url).send(MOBILE, "hi")
    assert raised.value.retryable is True


def test_connection_refused_is_retryable():
    with pytest.raises(SmsError, match="ConnectionError") as raised:
        webhook(closed_port_url()).send(MOBILE, "hi")
    assert raised.value.retryable is True
