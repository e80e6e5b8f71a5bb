"""The served OpenAPI specification: allauth's headless spec with Twofold's endpoints added."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from allauth.headless.spec.internal.schema import get_schema
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from twofold.api.unserved import not_served

OURS = Path(__file__).with_name("openapi.yaml")


@cache
def _ours() -> dict[str, Any]:
    return dict(yaml.safe_load(OURS.read_text()))


def specification() -> dict[str, Any]:
    spec = get_schema()
    ours = _ours()
    spec["info"]["title"] = "Twofold API"
    spec["paths"].update(ours["paths"])
    # allauth's spec describes endpoints Twofold does not serve (its own 2FA, phone numbers).
    spec["paths"] = {p: item for p, item in spec["paths"].items() if is_served(p)}
    for section, entries in ours["components"].items():
        spec.setdefault("components", {}).setdefault(section, {}).update(entries)
    spec["components"]["securitySchemes"]["cookieAuth"]["name"] = settings.SESSION_COOKIE_NAME
    spec.setdefault("tags", []).extend(ours["tags"])
    if "x-tagGroups" in spec:
        spec["x-tagGroups"].append({"name": "Twofold", "tags": [t["name"] for t in ours["tags"]]})
    return spec


def concrete_paths(path: str) -> list[str]:
    """``/_allauth/{client}/v1/…`` for each client, with ``1`` for every other parameter."""
    clients = ("browser", "app") if "{client}" in path else ("",)
    return [re.sub(r"\{[^}]+\}", "1", path.replace("{client}", c)) for c in clients]


def is_served(path: str) -> bool:
    """Whether every client's address of ``path`` reaches a view that serves it."""
    for concrete in concrete_paths(path):
        try:
            match = resolve(concrete)
        except Resolver404:
            return False
        if match.func is not_served:
            return False
    return True


@cache
def _rendered(fmt: str) -> str:
    # Once per process: building it costs about a second of CPU, too much for an anonymous GET.
    spec = specification()
    return json.dumps(spec) if fmt == "json" else yaml.safe_dump(spec, sort_keys=False)


@receiver(setting_changed)
def _forget_rendered(**kwargs: Any) -> None:
    _rendered.cache_clear()  # the spec depends on settings (signup fields, clients)


def openapi_yaml(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_rendered("yaml"), content_type="application/vnd.oai.openapi")


def openapi_json(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_rendered("json"), content_type="application/vnd.oai.openapi+json")
