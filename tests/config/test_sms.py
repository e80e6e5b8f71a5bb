"""SMS settings: defaults, full provider configurations, and every contradiction refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from twofold.config import env
from twofold.config.env import ConfigurationError

TWILIO = {
    "SMS_GATEWAYS": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-token-value",
    "TWILIO_FROM": "+15005550006",
}
SNS = {"SMS_GATEWAYS": "sns", "SNS_REGION": "eu-west-1"}
WEBHOOK = {"SMS_GATEWAYS": "webhook", "SMS_WEBHOOK_URL": "https://relay.example.com/sms"}
PRODUCTION = {
    "MODE": "production",
    "SECRET_KEY": "k" * 60,
    "FACTOR_KEY": env.new_factor_key(),
    "OIDC_PRIVATE_KEY": env.new_private_key(),
    "PUBLIC_URL": "https://login.example.com",
}


def load(tmp_path: Path, **variables: str) -> env.TwofoldSettings:
    environ = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    return env.load(environ)


def test_defaults_write_texts_to_the_outbox_with_the_documented_limits(tmp_path):
    sms = load(tmp_path).sms
    assert sms.gateways == ("outbox",)
    assert sms.outbox == tmp_path / "sms-outbox.jsonl"
    assert sms.timeout == 10
    assert sms.countries == frozenset()
    limits = (sms.limit_per_number, sms.limit_per_user, sms.limit_per_ip)
    assert limits == (10, 20, 50)
    assert sms.limit_per_organization == 1000
    assert (sms.twilio, sms.sns, sms.webhook) == (None, None, None)


def test_gateways_countries_limits_and_timeout_are_read(tmp_path):
    sms = load(
        tmp_path,
        SMS_GATEWAYS=" Console , outbox",
        SMS_OUTBOX=str(tmp_path / "texts.jsonl"),
        SMS_COUNTRIES="ch, de",
        SMS_LIMIT_PER_USER="5",
        SMS_TIMEOUT="2.5",
    ).sms
    assert sms.gateways == ("console", "outbox")
    assert sms.outbox == tmp_path / "texts.jsonl"
    assert sms.countries == frozenset({"CH", "DE"})
    assert sms.limit_per_user == 5
    assert sms.timeout == 2.5


def test_twilio_sns_and_webhook_are_read_when_named(tmp_path):
    variables = {
        **TWILIO,
        **SNS,
        **WEBHOOK,
        "SMS_GATEWAYS": "twilio,sns,webhook",
        "TWILIO_BASE_URL": "https://api.ie1.twilio.com/",
        "SNS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "SNS_SECRET_ACCESS_KEY": "aws-secret-value",
        "SNS_SENDER_ID": "Twofold",
        "SMS_WEBHOOK_BODY": '{"msisdn": "{to}", "text": "{body}", "priority": 1}',
        "SMS_WEBHOOK_BASIC_AUTH": "relay:pass:word",
    }
    sms = load(tmp_path, **variables).sms
    assert sms.twilio is not None
    assert sms.sns is not None
    assert sms.webhook is not None
    assert sms.twilio.base_url == "https://api.ie1.twilio.com"
    assert str(sms.twilio.auth_token) == "twilio-token-value"
    assert (sms.sns.region, sms.sns.sender_id) == ("eu-west-1", "Twofold")
    assert sms.webhook.body_template == {"msisdn": "{to}", "text": "{body}", "priority": 1}
    assert sms.webhook.basic_auth is not None
    assert sms.webhook.basic_auth[0] == "relay"
    assert str(sms.webhook.basic_auth[1]) == "pass:word"


def test_provider_secrets_never_print(tmp_path):
    variables = {
        **TWILIO,
        **WEBHOOK,
        "SMS_GATEWAYS": "twilio,webhook",
        "SMS_WEBHOOK_BEARER_TOKEN": "webhook-token-value",
    }
    settings = load(tmp_path, **variables)
    shown = repr(settings) + env.describe(settings)
    assert "twilio-token-value" not in shown
    assert "webhook-token-value" not in shown


def test_sns_without_keys_uses_boto3s_own_credentials(tmp_path):
    sms = load(tmp_path, **SNS).sms
    assert sms.sns is not None
    assert (sms.sns.access_key_id, sms.sns.secret_access_key) == ("", None)


def test_plain_http_to_this_machine_is_allowed_in_production(tmp_path):
    local = {**WEBHOOK, "SMS_WEBHOOK_URL": "http://127.0.0.1:9000/sms"}
    sms = load(tmp_path, **PRODUCTION, **local).sms
    assert sms.webhook is not None
    assert sms.webhook.url == "http://127.0.0.1:9000/sms"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SMS_GATEWAYS": "twillio"}, "'twillio' is not an SMS gateway (did you mean twilio?)"),
        ({"SMS_GATEWAYS": " , "}, "TWOFOLD_SMS_GATEWAYS must name at least one gateway"),
        ({"SMS_GATEWAYS": "outbox,outbox"}, "TWOFOLD_SMS_GATEWAYS lists outbox more than once"),
        (
            {"SMS_GATEWAYS": "twilio"},
            "TWOFOLD_SMS_GATEWAYS=twilio needs TWOFOLD_TWILIO_ACCOUNT_SID and "
            "TWOFOLD_TWILIO_AUTH_TOKEN",
        ),
        ({**TWILIO, "TWILIO_AUTH_TOKEN": ""}, "needs TWOFOLD_TWILIO_ACCOUNT_SID and"),
        (
            {**TWILIO, "TWILIO_FROM": ""},
            "TWOFOLD_SMS_GATEWAYS=twilio needs TWOFOLD_TWILIO_FROM",
        ),
        (
            {**TWILIO, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32},
            "set TWOFOLD_TWILIO_FROM or TWOFOLD_TWILIO_MESSAGING_SERVICE_SID, not both",
        ),
        ({**TWILIO, "TWILIO_BASE_URL": "ftp://x"}, "TWOFOLD_TWILIO_BASE_URL must be an http://"),
        ({"SMS_GATEWAYS": "sns"}, "TWOFOLD_SMS_GATEWAYS=sns needs TWOFOLD_SNS_REGION"),
        (
            {**SNS, "SNS_ACCESS_KEY_ID": "AKIAEXAMPLE"},
            "set both TWOFOLD_SNS_ACCESS_KEY_ID and TWOFOLD_SNS_SECRET_ACCESS_KEY, or neither",
        ),
        ({**SNS, "SNS_SENDER_ID": "Far-too-long-id"}, "TWOFOLD_SNS_SENDER_ID='Far-too-long-id'"),
        ({**SNS, "SNS_ENDPOINT_URL": "sns.local"}, "TWOFOLD_SNS_ENDPOINT_URL must be an http://"),
        ({"SMS_GATEWAYS": "webhook"}, "TWOFOLD_SMS_GATEWAYS=webhook needs TWOFOLD_SMS_WEBHOOK_URL"),
        (
            {**WEBHOOK, "SMS_WEBHOOK_URL": "file:///etc/passwd"},
            "TWOFOLD_SMS_WEBHOOK_URL must be an http:// or https:// URL",
        ),
        (
            {**PRODUCTION, **WEBHOOK, "SMS_WEBHOOK_URL": "http://relay.example.com/sms"},
            "TWOFOLD_SMS_WEBHOOK_URL must be https:// in production",
        ),
        ({**WEBHOOK, "SMS_WEBHOOK_BODY": "{to}"}, "TWOFOLD_SMS_WEBHOOK_BODY must be JSON"),
        (
            {**WEBHOOK, "SMS_WEBHOOK_BODY": '{"to": "{to}"}'},
            'TWOFOLD_SMS_WEBHOOK_BODY must contain "{to}" and "{body}"',
        ),
        (
            {**WEBHOOK, "SMS_WEBHOOK_BEARER_TOKEN": "t", "SMS_WEBHOOK_BASIC_AUTH": "u:p"},
            "set TWOFOLD_SMS_WEBHOOK_BEARER_TOKEN or TWOFOLD_SMS_WEBHOOK_BASIC_AUTH, not both",
        ),
        (
            {**WEBHOOK, "SMS_WEBHOOK_BASIC_AUTH": "justauser"},
            "TWOFOLD_SMS_WEBHOOK_BASIC_AUTH must be user:password",
        ),
        ({"SMS_LIMIT_PER_NUMBER": "0"}, "TWOFOLD_SMS_LIMIT_PER_NUMBER=0 must be at least 1"),
        ({"SMS_LIMIT_PER_USER": "-5"}, "TWOFOLD_SMS_LIMIT_PER_USER=-5 must be at least 1"),
        ({"SMS_LIMIT_PER_IP": "many"}, "TWOFOLD_SMS_LIMIT_PER_IP='many' must be a whole number"),
        ({"SMS_LIMIT_PER_ORGANIZATION": "0"}, "TWOFOLD_SMS_LIMIT_PER_ORGANIZATION=0 must be"),
        ({"SMS_COUNTRIES": "CH,XX"}, "TWOFOLD_SMS_COUNTRIES: 'XX' is not an ISO 3166 alpha-2"),
        ({"SMS_COUNTRIES": "Switzerland"}, "'SWITZERLAND' is not an ISO 3166 alpha-2"),
        ({"SMS_TIMEOUT": "0"}, "TWOFOLD_SMS_TIMEOUT='0' must be a number of seconds above 0"),
        ({"SMS_TIMEOUT": "600"}, "TWOFOLD_SMS_TIMEOUT='600' must be a number of seconds"),
        ({"SMS_TIMOUT": "5"}, "TWOFOLD_SMS_TIMOUT is not a Twofold setting (did you mean"),
    ],
)
def test_sms_contradictions_are_refused_with_what_to_set(tmp_path, variables, message):
    with pytest.raises(ConfigurationError) as raised:
        load(tmp_path, **variables)
    assert message in str(raised.value)


def test_provider_settings_of_an_unnamed_gateway_are_not_checked(tmp_path):
    sms = load(tmp_path, SNS_SENDER_ID="not valid because far too long").sms
    assert sms.sns is None
