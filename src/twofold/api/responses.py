"""The JSON envelope of allauth's headless API: ``{status, data}`` or ``{status, errors}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import JsonResponse


def ok(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse({"status": status, "data": data}, status=status)


def error(status: int, code: str, message: str, param: str | None = None) -> JsonResponse:
    entry: dict[str, str] = {"code": code, "message": message}
    if param:
        entry["param"] = param
    return JsonResponse({"status": status, "errors": [entry]}, status=status)


def form_errors(errors: Mapping[str, Iterable[Mapping[str, str]]]) -> JsonResponse:
    """A 400 listing every invalid field, each with its validator's code and message."""
    entries = []
    for param, field_errors in errors.items():
        for item in field_errors:
            entry = {"code": item.get("code") or "invalid", "message": item["message"]}
            if param != "__all__":
                entry["param"] = param
            entries.append(entry)
    return JsonResponse({"status": 400, "errors": entries}, status=400)
