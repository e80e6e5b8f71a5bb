"""``TWOFOLD_DNS_RESOLVER``: the resolvers that check email domains' TXT records (config/sso.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twofold.config import env


def load(tmp_path: Path, value: str | None) -> env.TwofoldSettings:
    variables = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    if value is not None:
        variables["TWOFOLD_DNS_RESOLVER"] = value
    return env.load(variables)


def test_without_the_setting_the_systems_resolver_is_asked(tmp_path: Path) -> None:
    assert load(tmp_path, None).sso.dns_resolvers == ()


def test_resolvers_are_addresses_with_an_optional_port(tmp_path: Path) -> None:
    settings = load(tmp_path, "9.9.9.9, 127.0.0.1:5353,[::1]:5300, 2620:fe::fe")

    assert settings.sso.dns_resolvers == (
        ("9.9.9.9", 53),
        ("127.0.0.1", 5353),
        ("::1", 5300),
        ("2620:fe::fe", 53),
    )


@pytest.mark.parametrize("value", ["dns.google", "127.0.0.1:0", "127.0.0.1:99999", "[::1]5300"])
def test_a_resolver_that_is_no_address_is_refused_at_start_up(tmp_path: Path, value: str) -> None:
    with pytest.raises(env.ConfigurationError, match="TWOFOLD_DNS_RESOLVER"):
        load(tmp_path, value)
