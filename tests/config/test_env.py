"""The typed settings: defaults, validation, contradictions refused with what to set."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from twofold.config import env, signing_keys
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
    assert settings.public_url == "http://localhost:8000"  # a passkey's RP id: not an IP
    assert settings.host == "127.0.0.1"
    assert {"localhost", "127.0.0.1"} <= set(settings.allowed_hosts)  # both names answer
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
        OIDC_PRIVATE_KEY=env.new_private_key(),
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


def test_production_requires_the_identity_providers_signing_key(tmp_path):
    """Every instance signs with the same key: production does not make one of its own."""
    with pytest.raises(ConfigurationError, match=r"TWOFOLD_OIDC_PRIVATE_KEY .* is required"):
        load(
            tmp_path,
            MODE="production",
            SECRET_KEY="k" * 60,
            FACTOR_KEY=env.new_factor_key(),
            PUBLIC_URL="https://x.example",
        )
    assert not (tmp_path / "oidc_private_key.pem").exists()


def test_the_signing_key_is_read_from_a_file_as_container_secrets_give_it(tmp_path):
    key = env.new_private_key()
    (tmp_path / "oidc.pem").write_text(key)
    settings = load(tmp_path, OIDC_PRIVATE_KEY_FILE=str(tmp_path / "oidc.pem"))
    assert str(settings.oidc_private_key) == key.strip()


def test_an_unreadable_or_malformed_signing_key_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match=r"OIDC_PRIVATE_KEY_FILE=.* cannot be read"):
        load(tmp_path, OIDC_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigurationError, match="must be an RSA private key in PEM"):
        load(tmp_path, OIDC_PRIVATE_KEY="not a key")


def test_development_signing_key_is_generated_once_and_private(tmp_path):
    first, second = load(tmp_path), load(tmp_path)
    assert str(first.oidc_private_key) == str(second.oidc_private_key)
    assert env.valid_private_key(str(first.oidc_private_key))
    assert stat.S_IMODE((tmp_path / "oidc_private_key.pem").stat().st_mode) == 0o600


def test_previous_keys_are_published_beside_the_signing_key_given_in_the_environment(tmp_path):
    """The operator moved the old key (private, or only its public half) to PREVIOUS_KEYS."""
    signing, old, older = (env.new_private_key() for _ in range(3))
    older_public = signing_keys.public_key(older)
    settings = load(tmp_path, OIDC_PRIVATE_KEY=signing, OIDC_PREVIOUS_KEYS=f"{old}\n{older_public}")
    assert settings.oidc_key_in_environment
    assert settings.oidc_previous_keys == (signing_keys.public_key(old), older_public)
    assert not (tmp_path / "oidc_private_key.pem").exists()


def test_previous_keys_are_read_from_a_file_as_container_secrets_give_them(tmp_path):
    old = env.new_private_key()
    (tmp_path / "previous.pem").write_text(old)
    settings = load(
        tmp_path,
        OIDC_PRIVATE_KEY=env.new_private_key(),
        OIDC_PREVIOUS_KEYS_FILE=str(tmp_path / "previous.pem"),
    )
    assert settings.oidc_previous_keys == (signing_keys.public_key(old),)


def test_the_signing_key_among_the_previous_keys_is_published_once(tmp_path):
    signing, old = env.new_private_key(), env.new_private_key()
    settings = load(tmp_path, OIDC_PRIVATE_KEY=signing, OIDC_PREVIOUS_KEYS=f"{old}\n{signing}")
    assert settings.oidc_previous_keys == (signing_keys.public_key(old),)


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        ("not a key", "TWOFOLD_OIDC_PREVIOUS_KEYS: must be RSA keys in PEM, one after another"),
        (
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----",
            "TWOFOLD_OIDC_PREVIOUS_KEYS: key 1 of 1 is not an RSA key in PEM",
        ),
    ],
)
def test_malformed_previous_keys_are_refused_in_one_line_that_shows_no_key(
    tmp_path, previous, message
):
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path, OIDC_PRIVATE_KEY=env.new_private_key(), OIDC_PREVIOUS_KEYS=previous)
    [line] = str(refused.value).splitlines()[1:]
    assert line == f"  - {message}"


def test_an_unreadable_previous_keys_file_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match=r"OIDC_PREVIOUS_KEYS_FILE=.* cannot be read"):
        load(
            tmp_path,
            OIDC_PRIVATE_KEY=env.new_private_key(),
            OIDC_PREVIOUS_KEYS_FILE=str(tmp_path / "missing.pem"),
        )


def test_previous_keys_without_a_signing_key_from_the_environment_are_refused(tmp_path):
    """The data directory keeps (and rotates) its own retired keys."""
    with pytest.raises(
        ConfigurationError, match="OIDC_PREVIOUS_KEYS needs TWOFOLD_OIDC_PRIVATE_KEY"
    ):
        load(tmp_path, OIDC_PREVIOUS_KEYS=env.new_private_key())


def test_development_publishes_the_data_directorys_retired_keys_until_their_tokens_expired(
    tmp_path,
):
    environ = {"TWOFOLD_DATA_DIR": str(tmp_path)}
    now = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    env.load(environ, now=now)
    done = signing_keys.rotate(tmp_path, now=now, keep_for=timedelta(minutes=15))
    during = env.load(environ, now=now + timedelta(minutes=14))
    assert not during.oidc_key_in_environment
    assert signing_keys.kid_of(str(during.oidc_private_key)) == done.kid
    assert during.oidc_previous_keys == (done.retired.public_key,)
    assert env.load(environ, now=now + timedelta(minutes=15)).oidc_previous_keys == ()


def test_a_damaged_key_store_stops_start_up_with_one_line(tmp_path):
    (tmp_path / "oidc_private_key.pem").write_text("not a key")
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path)
    assert str(refused.value).splitlines()[1:] == [
        f"  - The identity provider's signing keys: {tmp_path}/oidc_private_key.pem is not an "
        "RSA private key in PEM"
    ]


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


def test_forward_auth_returns_to_no_host_unless_configured(tmp_path):
    assert load(tmp_path).forward_auth_hosts == ()
    hosts = " App.Example.com, .intranet.example.com,127.0.0.1:8080,[::1]:8443,app.example.com"
    settings = load(tmp_path, FORWARD_AUTH_HOSTS=hosts)
    assert settings.forward_auth_hosts == (
        "app.example.com",
        ".intranet.example.com",
        "127.0.0.1:8080",
        "[::1]:8443",
    )


@pytest.mark.parametrize(
    "entry", ["*", "*.example.com", "https://app.example.com", "app.example.com/admin", "a b"]
)
def test_forward_auth_hosts_refuse_wildcards_urls_and_paths(tmp_path, entry):
    with pytest.raises(ConfigurationError, match=r"TWOFOLD_FORWARD_AUTH_HOSTS: .* is not a host"):
        load(tmp_path, FORWARD_AUTH_HOSTS=f"app.example.com,{entry}")


def test_cookie_domain_is_this_host_only_unless_configured(tmp_path):
    assert load(tmp_path).cookie_domain is None
    public = "https://login.example.com"
    assert load(tmp_path, PUBLIC_URL=public, COOKIE_DOMAIN=".Example.com").cookie_domain == (
        "example.com"
    )
    assert load(tmp_path, PUBLIC_URL=public, COOKIE_DOMAIN="login.example.com").cookie_domain == (
        "login.example.com"
    )


@pytest.mark.parametrize(
    ("domain", "why"),
    [
        ("other.test", "or a domain above it"),
        ("ample.com", "or a domain above it"),
        ("com", "must be a domain name"),
        ("127.0.0.1", "must be a domain name"),
        ("example.com:443", "must be a domain name"),
    ],
)
def test_cookie_domain_must_contain_the_public_host(tmp_path, domain, why):
    with pytest.raises(ConfigurationError, match=rf"TWOFOLD_COOKIE_DOMAIN=.*{why}"):
        load(tmp_path, PUBLIC_URL="https://login.example.com", COOKIE_DOMAIN=domain)


def test_a_host_set_is_the_default_public_url_and_loopback_answers_to_both_names(tmp_path):
    settings = load(tmp_path, HOST="127.0.0.1", PORT="8123")
    assert settings.public_url == "http://127.0.0.1:8123"
    assert {"localhost", "127.0.0.1"} <= set(settings.allowed_hosts)
    public = load(tmp_path, HOST="0.0.0.0", PUBLIC_URL="https://login.example.com")
    assert "localhost" not in public.allowed_hosts
