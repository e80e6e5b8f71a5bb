"""Secrets from files: ``TWOFOLD_<NAME>_FILE`` for every secret setting, as container secrets and
systemd credentials give them, with one rule (config/env.py, ``_Reader._read_secret_file``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from twofold.config import env
from twofold.config.env import ConfigurationError, TwofoldSettings

OIDC_KEY = env.new_private_key()
FACTOR_KEY = env.new_factor_key()

Case = tuple[str, str, dict[str, str], Callable[[TwofoldSettings], object]]

# (setting, a valid value, what else it needs to be read, where the value lands)
CASES: list[Case] = [
    ("SECRET_KEY", "s" * 60, {}, lambda s: s.secret_key),
    ("FACTOR_KEY", FACTOR_KEY, {}, lambda s: s.factor_key),
    ("OIDC_PRIVATE_KEY", OIDC_KEY.strip(), {}, lambda s: s.oidc_private_key),
    ("DATABASE_URL", "postgres://twofold:hunter2@db/twofold", {}, lambda s: s.database_url),
    ("REDIS_URL", "redis://:hunter2@cache:6379/0", {}, lambda s: s.redis_url),
    ("SMTP_PASSWORD", "smtp-hunter2", {"SMTP_HOST": "mail.test"}, lambda s: s.smtp.password),  # type: ignore[union-attr]
    ("METRICS_TOKEN", "metrics-hunter2-" + "m" * 24, {}, lambda s: s.metrics_token),
    (
        "TWILIO_ACCOUNT_SID",
        "AC" + "1" * 32,
        {"SMS_GATEWAYS": "twilio", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15005550006"},
        lambda s: s.sms.twilio.account_sid,  # type: ignore[union-attr]
    ),
    (
        "TWILIO_AUTH_TOKEN",
        "twilio-hunter2",
        {"SMS_GATEWAYS": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_FROM": "+15005550006"},
        lambda s: s.sms.twilio.auth_token,  # type: ignore[union-attr]
    ),
    (
        "SNS_ACCESS_KEY_ID",
        "AKIAEXAMPLE",
        {"SMS_GATEWAYS": "sns", "SNS_REGION": "eu-west-1", "SNS_SECRET_ACCESS_KEY": "x"},
        lambda s: s.sms.sns.access_key_id,  # type: ignore[union-attr]
    ),
    (
        "SNS_SECRET_ACCESS_KEY",
        "sns-hunter2",
        {"SMS_GATEWAYS": "sns", "SNS_REGION": "eu-west-1", "SNS_ACCESS_KEY_ID": "AKIAEXAMPLE"},
        lambda s: s.sms.sns.secret_access_key,  # type: ignore[union-attr]
    ),
    (
        "SMS_WEBHOOK_BEARER_TOKEN",
        "webhook-hunter2",
        {"SMS_GATEWAYS": "webhook", "SMS_WEBHOOK_URL": "https://relay.test/sms"},
        lambda s: s.sms.webhook.bearer_token,  # type: ignore[union-attr]
    ),
    (
        "SMS_WEBHOOK_BASIC_AUTH",
        "relay:hunter2",
        {"SMS_GATEWAYS": "webhook", "SMS_WEBHOOK_URL": "https://relay.test/sms"},
        lambda s: "{}:{}".format(*s.sms.webhook.basic_auth),  # type: ignore[union-attr]
    ),
    (
        "GOOGLE_CLIENT_SECRET",
        "google-hunter2",
        {"GOOGLE_CLIENT_ID": "client"},
        lambda s: s.sso.google.client_secret,  # type: ignore[union-attr]
    ),
    (
        "MICROSOFT_CLIENT_SECRET",
        "microsoft-hunter2",
        {"MICROSOFT_CLIENT_ID": "client"},
        lambda s: s.sso.microsoft.client_secret,  # type: ignore[union-attr]
    ),
]


def load(tmp_path: Path, **variables: str) -> TwofoldSettings:
    environ = {"TWOFOLD_DATA_DIR": str(tmp_path / "data")}
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    return env.load(environ)


def secret_file(tmp_path: Path, content: str, name: str = "secret") -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_every_secret_setting_has_its_file_variable_and_each_is_tested():
    tested = {name for name, *_ in CASES} | {"OIDC_PREVIOUS_KEYS"}  # tests/config/test_env.py
    assert set(env.SECRET_VARIABLES) == tested
    assert all(f"{name}_FILE" in env.KNOWN_VARIABLES for name in env.SECRET_VARIABLES)


@pytest.mark.parametrize(("name", "value", "needs", "landed"), CASES, ids=[c[0] for c in CASES])
def test_a_secret_is_read_from_its_file_without_the_trailing_newline(
    tmp_path, name, value, needs, landed
):
    path = secret_file(tmp_path, value + "\n")
    settings = load(tmp_path, **needs, **{f"{name}_FILE": path})
    assert str(landed(settings)) == value


@pytest.mark.parametrize(("name", "value", "needs", "landed"), CASES, ids=[c[0] for c in CASES])
def test_a_secret_given_both_ways_is_refused(tmp_path, name, value, needs, landed):
    path = secret_file(tmp_path, value)
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path, **needs, **{name: value, f"{name}_FILE": path})
    assert f"set TWOFOLD_{name} or TWOFOLD_{name}_FILE, not both" in str(refused.value)


def test_a_missing_file_is_refused_naming_the_variable(tmp_path):
    missing = tmp_path / "no-such-secret"
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path, SMTP_HOST="mail.test", SMTP_PASSWORD_FILE=str(missing))
    assert (
        f"TWOFOLD_SMTP_PASSWORD_FILE={str(missing)!r} cannot be read (No such file or directory): "
        "TWOFOLD_SMTP_PASSWORD stays unset"
    ) in str(refused.value)


def test_a_directory_is_refused_as_unreadable(tmp_path):
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY_FILE=.* cannot be read"):
        load(tmp_path, SECRET_KEY_FILE=str(tmp_path))


def test_an_unreadable_file_is_refused(tmp_path):
    path = Path(secret_file(tmp_path, "x" * 60))
    path.chmod(0)
    if _readable(path):  # root reads anything
        pytest.skip("this user reads files without read permission")
    with pytest.raises(ConfigurationError, match=r"Permission denied"):
        load(tmp_path, SECRET_KEY_FILE=str(path))


@pytest.mark.parametrize("content", ["", "\n", "\r\n\n"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = secret_file(tmp_path, content)
    with pytest.raises(ConfigurationError, match=r"REDIS_URL_FILE=.* is an empty file"):
        load(tmp_path, REDIS_URL_FILE=path)


def test_a_file_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigurationError, match=r"FACTOR_KEY_FILE=.* is not UTF-8 text"):
        load(tmp_path, FACTOR_KEY_FILE=str(path))


def test_a_refusal_never_shows_the_files_content(tmp_path):
    """A malformed secret from a file is refused as the variable would be, content unshown."""
    path = secret_file(tmp_path, "too-short-hunter2\n")
    with pytest.raises(ConfigurationError) as refused:
        load(
            tmp_path,
            SECRET_KEY_FILE=path,
            DATABASE_URL_FILE=secret_file(tmp_path, "mysql://root:hunter2@db", "url"),
        )
    assert "SECRET_KEY must be at least 50 characters" in str(refused.value)
    assert "DATABASE_URL must start with one of" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_production_starts_with_every_required_secret_from_files(tmp_path):
    files = {}
    for name, value in (
        ("SECRET_KEY", "p" * 60),
        ("FACTOR_KEY", FACTOR_KEY),
        ("OIDC_PRIVATE_KEY", OIDC_KEY),
    ):
        (tmp_path / name).write_text(value + "\n")
        files[f"{name}_FILE"] = str(tmp_path / name)
    settings = load(tmp_path, MODE="production", PUBLIC_URL="https://login.example.com", **files)
    assert str(settings.secret_key) == "p" * 60
    assert settings.oidc_key_in_environment
    assert not (tmp_path / "data" / "secret_key").exists()


def _readable(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True
