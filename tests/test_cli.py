"""The `twofold` command, run as an operator runs it: its own process and environment."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from twofold.config import env, signing_keys

PROD_KEY = secrets.token_urlsafe(50)
FACTOR_KEY = env.new_factor_key()
OIDC_KEY = env.new_private_key()


def twofold(
    *args: str, data_dir: Path, stdin: str = "", **variables: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    environ["TWOFOLD_DATA_DIR"] = str(data_dir)
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    return subprocess.run(
        [sys.executable, "-m", "twofold.cli", *args],
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_of(data_dir: Path, *names: str, **variables: str) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    environ.update(
        {"DJANGO_SETTINGS_MODULE": "twofold.config.settings", "TWOFOLD_DATA_DIR": str(data_dir)}
    )
    environ.update({f"TWOFOLD_{k}": v for k, v in variables.items()})
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def test_check_passes_on_the_embedded_default(tmp_path):
    result = twofold("check", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid (development mode)" in result.stdout


def test_check_runs_deploy_checks_in_production(tmp_path):
    result = twofold(
        "check",
        data_dir=tmp_path,
        MODE="production",
        SECRET_KEY=PROD_KEY,
        FACTOR_KEY=FACTOR_KEY,
        OIDC_PRIVATE_KEY=OIDC_KEY,
        PUBLIC_URL="https://login.example.com",
        SMS_GATEWAYS="webhook",
        SMS_WEBHOOK_URL="https://sms.example.com/send",
    )
    assert result.returncode == 0, result.stderr
    assert "production mode" in result.stdout


def test_check_in_production_fails_while_sms_codes_stay_on_the_machine(tmp_path):
    result = twofold(
        "check",
        data_dir=tmp_path,
        MODE="production",
        SECRET_KEY=PROD_KEY,
        FACTOR_KEY=FACTOR_KEY,
        OIDC_PRIVATE_KEY=OIDC_KEY,
        PUBLIC_URL="https://login.example.com",
    )
    assert result.returncode != 0
    assert "twofold.E003" in result.stderr + result.stdout


PRODUCTION = {
    "MODE": "production",
    "SECRET_KEY": PROD_KEY,
    "FACTOR_KEY": FACTOR_KEY,
    "OIDC_PRIVATE_KEY": OIDC_KEY,
    "PUBLIC_URL": "https://login.example.com",
}


def test_serve_in_production_refuses_to_start_with_the_default_sms_outbox(tmp_path):
    """The deployment checks run at start-up: codes that would never reach a phone stop it."""
    result = twofold("serve", data_dir=tmp_path, **PRODUCTION)
    assert result.returncode != 0
    assert "twofold.E003" in result.stderr
    assert "No SMS gateway is configured" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_production_starts_with_an_outbox_the_operator_chose(tmp_path):
    """Named on purpose, the outbox only warns; serve then goes on to the database's check."""
    result = twofold("serve", data_dir=tmp_path, SMS_GATEWAYS="outbox", **PRODUCTION)
    assert "twofold.E003" not in result.stderr
    assert "twofold.W001" in result.stderr
    assert "run `twofold migrate` first" in result.stderr  # past the checks: an empty database
    assert result.returncode == 1


def test_start_up_refuses_a_missing_setting_with_a_clear_message(tmp_path):
    result = twofold("check", data_dir=tmp_path, MODE="production")
    assert result.returncode != 0
    assert "TWOFOLD_SECRET_KEY is required in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_cookies_are_secure_host_prefixed_with_hsts(tmp_path):
    values = settings_of(
        tmp_path,
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_NAME",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        MODE="production",
        SECRET_KEY=PROD_KEY,
        FACTOR_KEY=FACTOR_KEY,
        OIDC_PRIVATE_KEY=OIDC_KEY,
        PUBLIC_URL="https://login.example.com",
    )
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert str(values["SESSION_COOKIE_NAME"]).startswith("__Host-")
    assert str(values["CSRF_COOKIE_NAME"]).startswith("__Host-")
    assert int(str(values["SECURE_HSTS_SECONDS"])) >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is True


def test_local_development_cookies_work_over_http(tmp_path):
    values = settings_of(
        tmp_path, "SESSION_COOKIE_SECURE", "SESSION_COOKIE_NAME", "SECURE_HSTS_SECONDS"
    )
    assert values["SESSION_COOKIE_SECURE"] is False
    assert not str(values["SESSION_COOKIE_NAME"]).startswith("__Host-")
    assert values["SECURE_HSTS_SECONDS"] in (0, None)


def test_redis_url_moves_cache_and_sessions_to_redis(tmp_path):
    values = settings_of(tmp_path, "CACHES", "SESSION_ENGINE", REDIS_URL="redis://127.0.0.1:6379/3")
    assert "RedisCache" in str(values["CACHES"])
    assert values["SESSION_ENGINE"] == "twofold.sessions.stores.cached_db"


def test_migrate_then_create_account(tmp_path):
    assert twofold("migrate", "--verbosity", "0", data_dir=tmp_path).returncode == 0
    created = twofold(
        "create-account",
        "--email",
        "Boss@Initech.test",
        "--name",
        "Initech",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="a very long passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert "boss@initech.test" in created.stdout
    again = twofold(
        "create-account",
        "--email",
        "boss@initech.test",
        "--name",
        "Initech",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="a very long passphrase\n",
    )
    assert again.returncode == 1
    assert "already has a Twofold account" in again.stderr


@pytest.mark.parametrize("password", ["short", "password123"])
def test_create_account_applies_the_password_policy(tmp_path, password):
    assert twofold("migrate", "--verbosity", "0", data_dir=tmp_path).returncode == 0
    result = twofold(
        "create-account",
        "--email",
        "a@b.test",
        "--name",
        "B",
        "--password-stdin",
        data_dir=tmp_path,
        stdin=password + "\n",
    )
    assert result.returncode == 1
    assert result.stderr.strip()


# --- rotate-signing-key ---------------------------------------------------------------------

RESTART = "Restart every Twofold instance now: each reads its signing keys only at start-up."
PUBLIC_KEY = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def test_rotate_signing_key_retires_the_data_directorys_key_and_asks_for_a_restart(tmp_path):
    assert twofold("migrate", "--verbosity", "0", data_dir=tmp_path).returncode == 0
    old = (tmp_path / "oidc_private_key.pem").read_text().strip()

    result = twofold("rotate-signing-key", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    new = (tmp_path / "oidc_private_key.pem").read_text().strip()
    assert new != old
    assert signing_keys.valid_private_key(new)
    [retired] = json.loads((tmp_path / "oidc_retired_keys.json").read_text())["retired"]
    assert retired["kid"] == signing_keys.kid_of(old)
    assert retired["public_key"] == signing_keys.public_key(old)
    published_until = datetime.fromisoformat(retired["published_until"])
    # The longest a session lasts (an expired ID token is still a logout hint), plus 5 minutes.
    kept_for = published_until - datetime.fromisoformat(retired["retired_at"])
    assert kept_for == timedelta(hours=24, minutes=5)
    for name in ("oidc_private_key.pem", "oidc_retired_keys.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert result.stdout.splitlines() == [
        f"The signing key is now {signing_keys.kid_of(new)} ({tmp_path}/oidc_private_key.pem).",
        f"The previous key {signing_keys.kid_of(old)} stays published until "
        f"{published_until:%Y-%m-%d %H:%M:%S} UTC.",
        RESTART,
    ]
    assert "PRIVATE KEY" not in result.stdout + result.stderr

    started = settings_of(tmp_path, "OAUTH2_PROVIDER")["OAUTH2_PROVIDER"]
    assert isinstance(started, dict)
    assert started["OIDC_RSA_PRIVATE_KEY"] == new
    assert started["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == [signing_keys.public_key(old)]
    refused = twofold("rotate-signing-key", "--out", str(tmp_path / "new.pem"), data_dir=tmp_path)
    assert refused.returncode == 1
    assert "--out is for a key given in TWOFOLD_OIDC_PRIVATE_KEY" in refused.stderr


def test_rotate_signing_key_given_in_the_environment_prints_the_new_key_and_the_steps(tmp_path):
    result = twofold("rotate-signing-key", data_dir=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    new = result.stdout.strip()  # the key alone: `> new.pem` keeps it
    assert signing_keys.valid_private_key(new)
    assert new != OIDC_KEY
    assert "PRIVATE KEY" not in result.stderr
    old = signing_keys.kid_of(OIDC_KEY)
    assert f"New signing key {signing_keys.kid_of(new)}, on standard output." in result.stderr
    assert f"1. Add the current key {old} to TWOFOLD_OIDC_PREVIOUS_KEYS" in result.stderr
    assert f"3. {RESTART}" in result.stderr
    assert f"4. 24 hours and 5 minutes after the last instance restarted, remove {old}" in (
        result.stderr
    )
    assert not (tmp_path / "oidc_private_key.pem").exists()

    # The steps followed: the new key signs, the old one's public half is published.
    [previous] = PUBLIC_KEY.findall(result.stderr)
    followed = {**PRODUCTION, "OIDC_PRIVATE_KEY": new, "OIDC_PREVIOUS_KEYS": previous}
    started = settings_of(tmp_path, "OAUTH2_PROVIDER", **followed)["OAUTH2_PROVIDER"]
    assert isinstance(started, dict)
    assert started["OIDC_RSA_PRIVATE_KEY"] == new
    assert started["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == [signing_keys.public_key(OIDC_KEY)]


def test_rotate_signing_key_writes_the_new_key_to_a_new_private_file_only(tmp_path):
    out = tmp_path / "new.pem"
    result = twofold("rotate-signing-key", "--out", str(out), data_dir=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert signing_keys.valid_private_key(out.read_text())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"written to {out} (mode 0600)" in result.stdout
    assert "PRIVATE KEY" not in result.stdout + result.stderr

    again = twofold("rotate-signing-key", "--out", str(out), data_dir=tmp_path, **PRODUCTION)
    assert again.returncode == 1
    assert again.stderr.strip() == f"--out {out} exists: name a file that does not."
    assert again.stdout == ""
    assert signing_keys.valid_private_key(out.read_text())


# --- serve ----------------------------------------------------------------------------------


def test_gunicorn_gives_stopping_workers_the_graceful_timeout():
    from twofold.cli import gunicorn_arguments

    arguments = gunicorn_arguments("app:application", "127.0.0.1:8123", 3, graceful_timeout=70)
    assert "--graceful-timeout=70" in arguments
    assert "--timeout=70" in arguments  # a silent worker is never killed sooner


def _messages_lines(tmp_path: Path, **variables: str) -> list[str]:
    from twofold.cli import where_messages_go

    environ = {
        "TWOFOLD_DATA_DIR": str(tmp_path),
        **{f"TWOFOLD_{k}": v for k, v in variables.items()},
    }
    return where_messages_go(env.load(environ))


def test_serve_says_where_emails_and_texts_go_by_default(tmp_path):
    assert _messages_lines(tmp_path) == [
        f"Emails: one .eml file each under {tmp_path / 'mail'}/",
        f"Texts (SMS): appended to {tmp_path / 'sms-outbox.jsonl'}",
    ]


def test_serve_names_the_smtp_server_and_each_gateway_in_failover_order(tmp_path):
    lines = _messages_lines(
        tmp_path,
        EMAIL_BACKEND="smtp",
        SMTP_HOST="mail.example.com",
        SMS_GATEWAYS="webhook,console",
        SMS_WEBHOOK_URL="https://relay.example.com/sms",
    )
    assert lines == [
        "Emails: sent through the SMTP server mail.example.com:587",
        "Texts (SMS): sent through webhook, then printed on this output",
    ]


def test_serve_refuses_a_graceful_timeout_shorter_than_the_sms_failover(tmp_path):
    result = twofold(
        "serve",
        data_dir=tmp_path,
        SMS_GATEWAYS="webhook",
        SMS_WEBHOOK_URL="https://relay.example.com/sms",
        GRACEFUL_TIMEOUT="15",
    )
    assert result.returncode == 1
    assert "TWOFOLD_GRACEFUL_TIMEOUT=15 is shorter than sending one text may take" in result.stderr
    assert "Traceback" not in result.stderr


# --- backup and restore ---------------------------------------------------------------------

SIGN_IN = """
import django, sys
django.setup()
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1")
answer = client.post("/accounts/login/", {"login": sys.argv[1], "password": sys.argv[2]})
print(answer.status_code, answer.headers.get("Location"), "_auth_user_id" in client.session)
"""


def signs_in(data_dir: Path, email: str, password: str) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWOFOLD_")}
    environ.update(
        {"DJANGO_SETTINGS_MODULE": "twofold.config.settings", "TWOFOLD_DATA_DIR": str(data_dir)}
    )
    out = subprocess.run(
        [sys.executable, "-c", SIGN_IN, email, password],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_backup_then_restore_gives_back_a_working_twofold(tmp_path):
    live, backup = tmp_path / "live", tmp_path / "backup"
    assert twofold("migrate", "--verbosity", "0", data_dir=live).returncode == 0
    password = "a very long passphrase"
    created = twofold(
        "create-account",
        "--email",
        "boss@initech.test",
        "--name",
        "Initech",
        "--password-stdin",
        data_dir=live,
        stdin=password + "\n",
    )
    assert created.returncode == 0, created.stderr
    made = twofold("backup", str(backup), data_dir=live)
    assert made.returncode == 0, made.stderr
    assert f"to {backup}." in made.stdout
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700

    for path in list(live.iterdir()):  # the machine is lost; a new one starts empty
        if path.is_file():
            path.unlink()
    restored = twofold("restore", str(backup), data_dir=live)
    assert restored.returncode == 0, restored.stderr
    assert "Start Twofold again." in restored.stdout
    assert (live / "secret_key").read_text() == (backup / "secret_key").read_text()
    assert signs_in(live, "boss@initech.test", password) == "302 / True"

    again = twofold("restore", str(backup), data_dir=live)
    assert again.returncode == 1
    assert "restore with --force to replace it" in again.stderr
    assert "Traceback" not in again.stderr
    assert twofold("restore", "--force", str(backup), data_dir=live).returncode == 0


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path):
    assert twofold("migrate", "--verbosity", "0", data_dir=tmp_path / "data").returncode == 0
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = twofold("backup", str(tmp_path / "taken"), data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr == (
        f"twofold backup: {tmp_path / 'taken'} is not empty: name a new or empty directory.\n"
    )


@pytest.mark.parametrize(("command", "instead"), [("backup", "pg_dump"), ("restore", "pg_restore")])
def test_backup_and_restore_send_postgresql_to_its_own_tools(tmp_path, command, instead):
    result = twofold(
        command, str(tmp_path / "backup"), data_dir=tmp_path, DATABASE_URL="postgres://db/twofold"
    )
    assert result.returncode == 1
    assert "is for the embedded SQLite database; this one is PostgreSQL" in result.stderr
    assert instead in result.stderr
    assert not (tmp_path / "backup").exists()
