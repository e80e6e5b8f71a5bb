"""Local stand-ins for SMS providers: tiny HTTP servers on 127.0.0.1 (TESTING.md, "SMS providers").

Each records the requests it got and answers what the test asks for: a resource, a provider's
error, or nothing for a while (``slow``), so that the vendors' real SDKs meet real HTTP.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password


Answer = tuple[int, Any]


@dataclass
class FakeServer:
    """Answers every request with ``answer(received)``; ``delay`` seconds late when set."""

    answer: Callable[[Received], Answer]
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def start(self) -> FakeServer:
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.handle_error = lambda *args: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.02)  # quick to stop

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._release.set()  # wake slow answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def respond(self, received: Received) -> Answer:
        self.received.append(received)
        if self.delay:
            self._release.wait(self.delay)
        return self.answer(received)


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received = Received("POST", self.path, dict(self.headers), self.rfile.read(length))
            status, payload = fake.respond(received)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class FakeTwilio:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio's REST API answers it."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.mode = "ok"
        self.server = FakeServer(self._answer)

    def _answer(self, received: Received) -> Answer:
        if received.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return 404, twilio_error(20404, 404, "The requested resource was not found")
        if received.basic_auth() != (self.account_sid, self.auth_token) or self.mode == "401":
            return 401, twilio_error(20003, 401, "Authenticate")
        form = received.form()
        if self.mode == "invalid":
            text = f"The 'To' number {form['To']} is not a valid phone number."
            return 400, twilio_error(21211, 400, text)
        if self.mode == "not_mobile":
            return 400, twilio_error(21614, 400, f"'To' number {form['To']} is not a mobile")
        if self.mode == "geo":
            return 400, twilio_error(21408, 400, "Permission to send an SMS has not been enabled")
        if self.mode == "500":
            return 500, b"<html>Internal Server Error</html>"
        return 201, self._message(form)

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        return {
            "sid": "SM" + uuid.uuid4().hex,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/SM.json",
        }


def twilio_error(code: int, status: int, message: str) -> dict[str, Any]:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
