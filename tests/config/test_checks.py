"""Start-up and deploy checks: what `twofold check --deploy` warns about."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import ERROR
from django.test import override_settings

from twofold.config import checks, env

OIDC_KEY = env.new_private_key()


def production(tmp_path: Path, gateways: str) -> env.TwofoldSettings:
    return env.load(
        {
            "TWOFOLD_DATA_DIR": str(tmp_path),
            "TWOFOLD_MODE": "production",
            "TWOFOLD_SECRET_KEY": "k" * 60,
            "TWOFOLD_FACTOR_KEY": env.new_factor_key(),
            "TWOFOLD_OIDC_PRIVATE_KEY": OIDC_KEY,
            "TWOFOLD_PUBLIC_URL": "https://login.example.com",
            "TWOFOLD_SMS_GATEWAYS": gateways,
            "TWOFOLD_SMS_WEBHOOK_URL": "https://sms.example.com/send",
        }
    )


@pytest.mark.parametrize("gateways", ["outbox", "webhook,console"])
def test_production_warns_when_sms_codes_stay_on_this_machine(tmp_path, gateways):
    with override_settings(TWOFOLD=production(tmp_path, gateways)):
        warnings = checks.sms_reaches_phones()
    assert [warning.id for warning in warnings] == ["twofold.W001"]


def test_production_refuses_the_default_outbox_that_texts_no_phone(tmp_path):
    settings = env.load(
        {
            "TWOFOLD_DATA_DIR": str(tmp_path),
            "TWOFOLD_MODE": "production",
            "TWOFOLD_SECRET_KEY": "k" * 60,
            "TWOFOLD_FACTOR_KEY": env.new_factor_key(),
            "TWOFOLD_OIDC_PRIVATE_KEY": OIDC_KEY,
            "TWOFOLD_PUBLIC_URL": "https://login.example.com",
        }
    )
    with override_settings(TWOFOLD=settings):
        problems = checks.sms_reaches_phones()
    assert [(problem.id, problem.level) for problem in problems] == [("twofold.E003", ERROR)]


def test_production_with_a_real_sms_gateway_passes(tmp_path):
    with override_settings(TWOFOLD=production(tmp_path, "webhook")):
        assert checks.sms_reaches_phones() == []


def test_development_may_use_the_outbox(settings):
    assert not settings.TWOFOLD.is_production
    assert checks.sms_reaches_phones() == []
