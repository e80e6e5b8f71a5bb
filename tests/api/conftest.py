"""Every response to an /api/ path in this package is checked: JSON (or empty 204), never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client


def assert_api_response(path: str, response: HttpResponse) -> None:
    assert response.status_code < 500, f"{path} answered {response.status_code}"
    if response.status_code == 204:
        assert not response.content
        return
    if path.endswith(".csv") and response.status_code == 200:
        assert response["Content-Type"].startswith("text/csv"), path  # a download; errors are JSON
        return
    assert response["Content-Type"] == "application/json", (
        f"{path} answered {response['Content-Type']}: {response.content[:200]!r}"
    )


@pytest.fixture(autouse=True)
def api_answers_json_only(monkeypatch: pytest.MonkeyPatch) -> None:
    send = Client.request

    def checked(self: Client, **request: Any) -> Any:
        response = send(self, **request)
        path = request.get("PATH_INFO", "")
        if path.startswith("/api/"):
            assert_api_response(path, response)
        return response

    monkeypatch.setattr(Client, "request", checked)
