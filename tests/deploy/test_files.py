"""The deploy files, checked as far as a machine that cannot pull images can: compose.yaml parses
and agrees with Twofold's variables, its nginx configuration passes ``nginx -t``, the
Containerfile's instructions read as intended, and the systemd unit passes ``systemd-analyze
verify``. The entrypoint runs for real in tests/deploy/test_entrypoint.py."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import require_or_skip
from tests.deploy.files import (
    CONTAINERFILE,
    ENTRYPOINT,
    NGINX_CONF,
    ROOT,
    TWOFOLD_VARIABLE,
    UNIT,
    Instruction,
    compose,
    env_instruction,
    environment,
    instructions,
    secret_value,
    twofold_services,
)
from tests.peers.harness import sqlite_pass_only
from tests.peers.nginx import nginx_executable
from twofold.config import env

pytestmark = sqlite_pass_only  # no database involved

# What production refuses to start without (docs/operations.md, "Production mode").
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "FACTOR_KEY", "OIDC_PRIVATE_KEY")
SHARED = ("DATABASE_URL", "REDIS_URL", *REQUIRED_IN_PRODUCTION)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return compose()


@pytest.fixture(scope="module")
def instances(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return twofold_services(spec)


def final_stage(found: list[Instruction]) -> list[Instruction]:
    starts = [i for i, instruction in enumerate(found) if instruction.keyword == "FROM"]
    return found[starts[-1] :]


def image_environment() -> dict[str, str]:
    """The ``ENV`` of the Containerfile's last stage (what every container starts with)."""
    variables: dict[str, str] = {}
    for instruction in final_stage(instructions(CONTAINERFILE.read_text())):
        if instruction.keyword == "ENV":
            variables.update(env_instruction(instruction.arguments))
    return variables


# --- compose.yaml ----------------------------------------------------------------------------


def test_compose_runs_two_instances_beside_postgres_redis_and_nginx(spec, instances):
    assert len(instances) == 2
    assert {"postgres", "redis", "nginx"} <= set(spec["services"])


def test_compose_sets_only_variables_twofold_knows(spec):
    for name, service in spec["services"].items():
        for variable in environment(service):
            if variable.startswith(env.PREFIX):
                known = variable.removeprefix(env.PREFIX) in env.KNOWN_VARIABLES
                assert known, f"{name}: {variable} is not a Twofold setting (README's table)"


def test_compose_gives_what_production_requires_as_files(instances):
    for name, service in instances.items():
        variables = environment(service)
        assert variables["TWOFOLD_MODE"] == "production", name
        assert variables["TWOFOLD_PUBLIC_URL"].startswith("https://"), name
        for secret in (*REQUIRED_IN_PRODUCTION, "DATABASE_URL"):
            assert f"TWOFOLD_{secret}" not in variables, f"{name}: {secret} in plain sight"
            path = variables[f"TWOFOLD_{secret}_FILE"]
            assert path.removeprefix("/run/secrets/") in service["secrets"], (name, path)


def test_twofold_accepts_each_instance_configuration(instances, tmp_path):
    """The image's variables and the service's, secrets made for the run where compose would
    mount them: Twofold's own reader of the configuration finds no problem."""
    for name, service in instances.items():
        variables = {**image_environment(), **environment(service)}
        variables["TWOFOLD_DATA_DIR"] = str(tmp_path / name)
        for variable, value in list(variables.items()):
            if variable.endswith("_FILE") and value.startswith("/run/secrets/"):
                path = tmp_path / f"{name}-{Path(value).name}"
                path.write_text(secret_value(variable))
                variables[variable] = str(path)
        settings = env.load(variables, cwd=tmp_path)
        assert settings.is_production, name
        assert settings.redis_url is not None, name
        assert str(settings.database_url).startswith("postgres://"), name


def test_both_instances_share_database_redis_and_keys(instances):
    first, second = (environment(service) for service in instances.values())
    for setting in SHARED:
        for variable in (f"TWOFOLD_{setting}", f"TWOFOLD_{setting}_FILE"):
            assert first.get(variable) == second.get(variable), variable
        assert any(f"TWOFOLD_{setting}{suffix}" in first for suffix in ("", "_FILE")), setting
    assert first == second, "the instances differ in their settings"
    secrets_of = [sorted(service["secrets"]) for service in instances.values()]
    assert secrets_of[0] == secrets_of[1]


def test_each_instance_keeps_its_own_data_volume(instances):
    volumes = [tuple(service["volumes"]) for service in instances.values()]
    assert all(any(v.endswith(":/var/lib/twofold") for v in vs) for vs in volumes)
    assert volumes[0] != volumes[1]


def test_compose_secrets_are_files_in_deploy_secrets(spec, instances):
    declared = spec["secrets"]
    for service in spec["services"].values():
        for secret in service.get("secrets", []):
            assert declared[secret]["file"].startswith("deploy/secrets/"), secret
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "deploy/secrets/" in ignored
    assert "deploy/tls/" in ignored


def test_instance_healthchecks_ask_twofold_probes(instances):
    for name, service in instances.items():
        probe = " ".join(service["healthcheck"]["test"])
        assert "/readyz" in probe or "/healthz" in probe, name
        assert f":{image_environment()['TWOFOLD_PORT']}/" in probe, name


def test_nginx_waits_for_ready_instances_and_mounts_its_configuration(spec, instances):
    nginx = spec["services"]["nginx"]
    for name in instances:
        assert nginx["depends_on"][name] == {"condition": "service_healthy"}
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]


# --- deploy/nginx.conf -----------------------------------------------------------------------


def self_signed(folder: Path) -> None:
    """``tls/fullchain.pem`` and ``tls/privkey.pem`` for login.example.com, made for the run."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login.example.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "tls").mkdir()
    (folder / "tls" / "fullchain.pem").write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
    )
    (folder / "tls" / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_nginx_configuration_passes_nginx_t(instances, tmp_path):
    """``nginx -t`` on deploy/nginx.conf beside a certificate made for the run. nginx resolves
    an upstream's names while it checks, and these are the compose network's: each instance's
    name (the upstream lists exactly those) is replaced by 127.0.0.1, and nothing else."""
    executable = nginx_executable()
    config = NGINX_CONF.read_text()
    upstream = [f"server {name}:8000" for name in instances]
    assert all(line in config for line in upstream), "the upstream lists every instance"
    for line in upstream:
        config = config.replace(line, "server 127.0.0.1:8000")
    (tmp_path / "nginx.conf").write_text(config)
    self_signed(tmp_path)
    done = subprocess.run(
        [
            executable, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
            "-e", str(tmp_path / "error.log"), "-g", f"pid {tmp_path}/nginx.pid;",
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_sets_the_headers_twofold_trusts_from_one_proxy():
    config = NGINX_CONF.read_text()
    for line in (
        "proxy_set_header X-Forwarded-Proto https;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Request-ID $request_id;",
        "proxy_set_header Host $host;",
    ):
        assert line in config
    (retry,) = [line for line in config.splitlines() if line.strip().startswith("proxy_next")]
    assert "non_idempotent" not in retry  # a POST is never sent twice


# --- Containerfile ---------------------------------------------------------------------------


def test_containerfile_builds_with_the_constraints_and_runs_unprivileged():
    found = instructions(CONTAINERFILE.read_text())
    stages = [i.arguments for i in found if i.keyword == "FROM"]
    assert stages == ["python:3.11-slim AS build", "python:3.11-slim"]
    build = found[: found.index(final_stage(found)[0])]
    assert any(
        i.keyword == "RUN" and "-c requirements/constraints.txt" in i.arguments for i in build
    )
    last = final_stage(found)
    keywords = [i.keyword for i in last]
    user = last[len(keywords) - 1 - keywords[::-1].index("USER")]
    assert user.arguments.split(":")[0] not in ("root", "0")
    assert "RUN" not in keywords[keywords.index("USER") :], "nothing runs as root after USER"


def test_containerfile_serves_through_the_entrypoint_with_a_probe():
    last = final_stage(instructions(CONTAINERFILE.read_text()))
    by_keyword = {i.keyword: i for i in last}
    assert by_keyword["CMD"].exec_form() == ["twofold", "serve"]
    (entrypoint,) = by_keyword["ENTRYPOINT"].exec_form()
    copied = [i.arguments.split() for i in last if i.keyword == "COPY"]
    assert ["deploy/entrypoint.sh", f"/usr/local/bin/{entrypoint}"] in copied
    variables = image_environment()
    assert by_keyword["EXPOSE"].arguments == variables["TWOFOLD_PORT"]
    assert variables["TWOFOLD_HOST"] == "0.0.0.0"
    probe = by_keyword["HEALTHCHECK"].exec_form()
    assert "/healthz" in " ".join(probe)


def test_containerfile_copies_only_what_exists():
    for instruction in instructions(CONTAINERFILE.read_text()):
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--from"):
            *sources, _ = instruction.arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), source


def test_containerfile_names_only_known_variables_and_every_required_one():
    text = CONTAINERFILE.read_text()
    named = {match.removeprefix(env.PREFIX) for match in TWOFOLD_VARIABLE.findall(text)}
    unknown = {name for name in named if name not in env.KNOWN_VARIABLES}
    # "TWOFOLD_SMTP_HOST (and _PORT, ...)" and "TWOFOLD_TWILIO_*" name families, not variables.
    assert unknown <= {"TWILIO", "SNS", "SMS_WEBHOOK"}, unknown
    for required in ("PUBLIC_URL", "SMS_GATEWAYS", "DATABASE_URL_FILE", "REDIS_URL"):
        assert required in named
    for secret in REQUIRED_IN_PRODUCTION:
        assert f"{secret}_FILE" in named
    assert env_instruction_names() <= set(env.KNOWN_VARIABLES)


def env_instruction_names() -> set[str]:
    return {
        name.removeprefix(env.PREFIX) for name in image_environment() if name.startswith(env.PREFIX)
    }


def test_entrypoint_is_executable():
    assert ENTRYPOINT.stat().st_mode & 0o111


# --- deploy/twofold.service ------------------------------------------------------------------


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    """Verified as installed in this checkout (its .venv) instead of /srv/twofold: verify
    refuses an ExecStart that does not exist. An unknown key or section fails too."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        require_or_skip("systemd-analyze is not installed")
    installed = tmp_path / "twofold.service"
    installed.write_text(UNIT.read_text().replace("/srv/twofold", str(ROOT)))
    done = subprocess.run(
        [str(analyze), "verify", str(installed)], capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    about_it = [line for line in output.splitlines() if "twofold.service" in line]
    assert not about_it, output  # an unknown key or section is only a warning


def test_systemd_unit_migrates_before_serving_hardened():
    sections = unit_sections(UNIT.read_text())
    service = sections["Service"]
    assert service["ExecStartPre"] == ["/srv/twofold/.venv/bin/twofold migrate --verbosity 0"]
    assert service["ExecStart"] == ["/srv/twofold/.venv/bin/twofold serve"]
    assert service["EnvironmentFile"] == ["/etc/twofold/twofold.env"]
    assert service["User"] == ["twofold"]
    for option in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome"):
        assert service[option][0] in ("yes", "strict"), option
    files = [v.split("=", 1)[0] for v in service["Environment"] if "_FILE=" in v]
    assert {f"TWOFOLD_{name}_FILE" for name in REQUIRED_IN_PRODUCTION} <= set(files)
    assert all(name.removeprefix("TWOFOLD_") in env.KNOWN_VARIABLES for name in files)
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]


def unit_sections(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections, each key with its values in order (keys repeat in units)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[] "), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_documented_commands_match_the_files():
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert "podman build -f Containerfile" in operations
    assert "docker compose up" in operations
