"""``GET /_allauth/{client}/v1/config`` says what Twofold serves (api/headless/config.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


@pytest.mark.parametrize("client", ["browser", "app"])
def test_config_names_twofolds_second_factors_and_passkey_sign_in(db: Any, client: str) -> None:
    response = Client().get(f"/_allauth/{client}/v1/config")

    assert response.status_code == 200
    assert response.json()["data"]["mfa"] == {
        "supported_types": ["webauthn", "totp", "sms", "backup_code"],
        "passkey_login_enabled": True,
    }


def test_config_keeps_the_rest_of_allauths_answer(db: Any) -> None:
    data = Client().get("/_allauth/browser/v1/config").json()["data"]

    assert data["account"]["login_methods"] == ["email"]
    assert set(data) == {"account", "socialaccount", "mfa", "usersessions"}


def test_the_specification_describes_the_config_that_is_served(db: Any) -> None:
    spec = json.loads(Client().get("/_allauth/openapi.json").content)
    schema = spec["components"]["schemas"]["MFAConfiguration"]
    served = Client().get("/_allauth/browser/v1/config").json()["data"]["mfa"]

    assert set(schema["required"]) == set(served)
    assert set(served["supported_types"]) <= set(
        schema["properties"]["supported_types"]["items"]["enum"]
    )
