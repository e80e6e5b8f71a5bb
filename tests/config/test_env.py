"""The typed settings: defaults, validation, contradictions refused with what to set."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from twofold.config import env
from twofold.config.env import ConfigurationError, Secret


def load(tmp_path: Path, **variables: str) -> env.TwofoldSettings:
    environ = {
        "TWOFOLD_DATA_DIR": str(tmp_path),
        **{f"TWOFOLD_{k}": v for k, v in variables.items()},
    }
    return env.load(environ)


def test_defaults_serve_locally_with_sqlite_and_file_email(tmp_path):
    settings = load(tmp_path)
    assert settings.mode == "development"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.email_backend == "file"
    assert settings.mail_dir == tmp_path / "mail"
    assert (settings.session_max_age, settings.session_idle_timeout) == (86400, 3600)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)
    assert settings.argon2_parallelism == 1
    assert settings.hash_slots == len(os.sched_getaffinity(0))


def test_hash_slots_are_set_for_containers_within_bounds(tmp_path):
    assert load(tmp_path, HASH_SLOTS="3").hash_slots == 3
    with pytest.raises(ConfigurationError, match="TWOFOLD_HASH_SLOTS"):
        load(tmp_path, HASH_SLOTS="0")


def test_development_secret_key_is_generated_once_and_private(tmp_path):
    first = load(tmp_path)
    second = load(tmp_path)
    assert str(first.secret_key) == str(second.secret_key)
    assert len(str(first.secret_key)) >= 50
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_secret_never_prints(tmp_path):
    settings = load(tmp_path, SECRET_KEY="s" * 60, DATABASE_URL="postgres://u:hunter2@db/x")
    shown = repr(settings) + env.describe(settings)
    assert "hunter2" not in shown
    assert "s" * 60 not in shown
    assert repr(Secret("x")) == "Secret('**********')"


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="TWOFOLD_SECRET_KEY is required in production"):
        load(tmp_path, MODE="production", PUBLIC_URL="https://login.example.com")


def test_production_requires_https(tmp_path):
    with pytest.raises(ConfigurationError, match="needs an https://"):
        load(tmp_path, MODE="production", SECRET_KEY="k" * 60)


def test_production_with_https_and_key_is_accepted(tmp_path):
    settings = load(
        tmp_path,
        MODE="production",
        SECRET_KEY="k" * 60,
        FACTOR_KEY=env.new_factor_key(),
        PUBLIC_URL="https://login.example.com",
    )
    assert settings.is_production
    assert settings.uses_https
    assert "login.example.com" in settings.allowed_hosts
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "factor_key").exists()


def test_production_requires_a_factor_key_kept_outside_the_database(tmp_path):
    with pytest.raises(ConfigurationError, match="TWOFOLD_FACTOR_KEY is required in production"):
        load(tmp_path, MODE="production", SECRET_KEY="k" * 60, PUBLIC_URL="https://x.example")


def test_development_factor_key_is_generated_once_and_private(tmp_path):
    first, second = load(tmp_path), load(tmp_path)
    assert str(first.factor_key) == str(second.factor_key)
    assert env.valid_factor_key(str(first.factor_key))
    assert stat.S_IMODE((tmp_path / "factor_key").stat().st_mode) == 0o600


def test_a_malformed_factor_key_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="TWOFOLD_FACTOR_KEY must be 32 bytes"):
        load(tmp_path, FACTOR_KEY="too-short")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DATABSE_URL": "x"}, "TWOFOLD_DATABSE_URL is not a Twofold setting (did you mean"),
        ({"PORT": "eighty"}, "TWOFOLD_PORT='eighty' must be a whole number"),
        ({"PORT": "70000"}, "TWOFOLD_PORT=70000 must be at least 1 and at most 65535"),
        ({"MODE": "staging"}, "TWOFOLD_MODE='staging' is not one of: development, production"),
        ({"SESSION_IDLE_TIMEOUT": "7200", "SESSION_MAX_AGE": "3600"}, "cannot exceed"),
        ({"EMAIL_BACKEND": "smtp"}, "TWOFOLD_EMAIL_BACKEND=smtp needs TWOFOLD_SMTP_HOST"),
        ({"DATABASE_URL": "mysql://db/x"}, "TWOFOLD_DATABASE_URL must start with one of"),
        ({"REDIS_URL": "http://cache"}, "TWOFOLD_REDIS_URL must start with one of"),
        ({"PUBLIC_URL": "login.example.com"}, "must be an http:// or https:// URL"),
        ({"SECRET_KEY": "short"}, "TWOFOLD_SECRET_KEY must be at least 50 characters"),
        ({"ARGON2_MEMORY_KIB": "1024"}, "TWOFOLD_ARGON2_MEMORY_KIB=1024 must be at least 7168"),
        ({"AUDIT_RETENTION_DAYS": "0"}, "TWOFOLD_AUDIT_RETENTION_DAYS=0 must be at least 1"),
        ({"AUDIT_RETENTION_DAYS": "a year"}, "TWOFOLD_AUDIT_RETENTION_DAYS='a year' must be"),
    ],
)
def test_wrong_or_contradictory_settings_are_refused_with_what_to_set(tmp_path, variables, message):
    with pytest.raises(ConfigurationError) as raised:
        load(tmp_path, **variables)
    assert message in str(raised.value)


def test_audit_events_are_kept_365_days_unless_configured(tmp_path):
    assert load(tmp_path).audit_retention_days == 365
    assert load(tmp_path, AUDIT_RETENTION_DAYS="30").audit_retention_days == 30


def test_every_problem_is_listed_at_once(tmp_path):
    with pytest.raises(ConfigurationError) as raised:
        load(tmp_path, PORT="x", MODE="y")
    assert "TWOFOLD_PORT" in str(raised.value)
    assert "TWOFOLD_MODE" in str(raised.value)


def test_smtp_settings_are_read(tmp_path):
    settings = load(tmp_path, EMAIL_BACKEND="smtp", SMTP_HOST="mail.test", SMTP_SECURITY="tls")
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.security) == (
        "mail.test",
        587,
        "tls",
    )


def test_readme_documents_every_setting():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [name for name in env.KNOWN_VARIABLES if f"TWOFOLD_{name}" not in readme]
    assert missing == []
