"""The deploy files as the tests read them: compose.yaml (PyYAML), the Containerfile (its
instructions, a line reader), and the secrets a production configuration needs, made for a run."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from twofold.config import env

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CONTAINERFILE = ROOT / "Containerfile"
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
NGINX_CONF = DEPLOY / "nginx.conf"
UNIT = DEPLOY / "twofold.service"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def twofold_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from the Containerfile: the Twofold instances."""
    return {
        name: service
        for name, service in spec["services"].items()
        if service.get("build", {}).get("dockerfile") == "Containerfile"
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's variables, given as a mapping or as a list of ``NAME=value``."""
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) for item in given)
    return {str(name): str(value) for name, value in given.items()}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form ``CMD``, ``ENTRYPOINT`` or ``HEALTHCHECK ... CMD``."""
        start = self.arguments.index("[")
        found = json.loads(self.arguments[start:])
        assert isinstance(found, list)
        return [str(part) for part in found]


KEYWORDS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def instructions(text: str) -> list[Instruction]:
    """The Containerfile's instructions: comments and blank lines dropped, continuation lines
    (a trailing backslash) joined, each starting with a known keyword."""
    found: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        assert keyword in KEYWORDS, f"not an instruction: {whole!r}"
        found.append(Instruction(keyword, arguments.strip()))
    assert not pending, "the Containerfile ends inside a continued line"
    return found


def env_instruction(arguments: str) -> dict[str, str]:
    """``ENV A=1 B=2`` (the ``key=value`` form) as a mapping."""
    return dict(pair.split("=", 1) for pair in arguments.split())


SECRET_VALUES = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "FACTOR_KEY": env.new_factor_key,
    "OIDC_PRIVATE_KEY": env.new_private_key,
    "DATABASE_URL": lambda: "postgres://twofold:password@postgres:5432/twofold",
}


def secret_value(variable: str) -> str:
    """A valid value for ``TWOFOLD_<variable>_FILE``'s file; a random token for the others."""
    name = variable.removeprefix(env.PREFIX).removesuffix("_FILE")
    return SECRET_VALUES.get(name, lambda: secrets.token_urlsafe(24))()


def production_secrets(folder: Path, *names: str) -> dict[str, str]:
    """Files in ``folder`` holding the secrets production needs: ``TWOFOLD_<NAME>_FILE`` for
    each name."""
    variables = {}
    for name in names:
        path = folder / name.lower()
        path.write_text(secret_value(name))
        variables[f"{env.PREFIX}{name}_FILE"] = str(path)
    return variables


TWOFOLD_VARIABLE = re.compile(r"\bTWOFOLD_[A-Z0-9_]+[A-Z0-9]")
