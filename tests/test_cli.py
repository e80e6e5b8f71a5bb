"""The `twofold` command, run as an operator runs it: its own process and environment."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from twofold.config import env

PROD_KEY = secrets.token_urlsafe(50)
FACTOR_KEY = env.new_factor_key()


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
        PUBLIC_URL="https://login.example.com",
    )
    assert result.returncode != 0
    assert "twofold.W001" in result.stderr + result.stdout


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
