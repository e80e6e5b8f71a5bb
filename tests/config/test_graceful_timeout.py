"""TWOFOLD_GRACEFUL_TIMEOUT: a stopping worker is given longer than the SMS failover can take."""

from __future__ import annotations

from pathlib import Path

import pytest

from twofold.config import env, sms
from twofold.config.env import ConfigurationError

TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM": "+15005550006",
}
SNS = {"SNS_REGION": "eu-west-1"}
WEBHOOK = {"SMS_WEBHOOK_URL": "https://relay.example.com/sms"}


def load(tmp_path: Path, **variables: str) -> env.TwofoldSettings:
    environ = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    return env.load(environ)


@pytest.mark.parametrize(
    ("gateways", "timeout", "longest"),
    [
        ("outbox", "10", 0),
        ("twilio", "10", 20),  # connect, then the answer
        ("sns", "10", 40),  # the opt-out check, then the publish
        ("twilio,sns,webhook", "10", 80),
        ("console,webhook", "2.5", 5),
    ],
)
def test_the_longest_failover_adds_every_gateways_timeouts(tmp_path, gateways, timeout, longest):
    settings = load(
        tmp_path, SMS_GATEWAYS=gateways, SMS_TIMEOUT=timeout, **TWILIO, **SNS, **WEBHOOK
    )
    assert sms.longest_failover(settings.sms) == longest


@pytest.mark.parametrize(
    ("gateways", "default"),
    [("outbox", 30), ("twilio", 30), ("twilio,sns", 70), ("twilio,sns,webhook", 90)],
)
def test_the_default_outlasts_the_sms_failover(tmp_path, gateways, default):
    settings = load(tmp_path, SMS_GATEWAYS=gateways, **TWILIO, **SNS, **WEBHOOK)
    assert settings.graceful_timeout == default
    assert settings.graceful_timeout > sms.longest_failover(settings.sms)


def test_a_chosen_timeout_at_least_the_failover_is_kept(tmp_path):
    assert load(tmp_path, GRACEFUL_TIMEOUT="120").graceful_timeout == 120
    settings = load(tmp_path, SMS_GATEWAYS="twilio", GRACEFUL_TIMEOUT="20", **TWILIO)
    assert settings.graceful_timeout == 20


def test_a_timeout_shorter_than_the_failover_is_refused_with_what_to_set(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path, SMS_GATEWAYS="twilio,sns", GRACEFUL_TIMEOUT="30", **TWILIO, **SNS)
    assert (
        "TWOFOLD_GRACEFUL_TIMEOUT=30 is shorter than sending one text may take (60 s: the "
        "gateways twilio, sns timing out in turn at TWOFOLD_SMS_TIMEOUT=10); a stopping worker "
        "would cut it off. Set it to at least 60, or lower TWOFOLD_SMS_TIMEOUT"
    ) in str(refused.value)


@pytest.mark.parametrize("value", ["0", "3601", "soon"])
def test_a_timeout_out_of_bounds_is_refused(tmp_path, value):
    with pytest.raises(ConfigurationError, match="TWOFOLD_GRACEFUL_TIMEOUT"):
        load(tmp_path, GRACEFUL_TIMEOUT=value)
