"""A real nginx (Debian's package) protecting a tiny application with Twofold's forward-auth.

``app_behind_nginx(twofold_url)`` starts, on free ports of 127.0.0.1:

- the application: a ``http.server`` thread that answers every request with the ``X-Twofold-*``
  headers it received (JSON for ``Accept: application/json``, else a small HTML page);
- nginx with its own generated configuration (:func:`forward_auth_config`): ``auth_request`` to
  Twofold's ``/auth/forward`` for every location, ``?aal=2`` under ``/admin/``, the member's
  headers handed to the application, and ``error_page 401 = @signin`` sending the browser to
  Twofold's sign-in page (the link the check answered with).

nginx runs as ``nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log`` with ``daemon off`` and
``master_process off`` (one process: its PID is the ``Popen``'s, stopped by ``terminate()``),
its pid file, logs, included files and temporary files in that directory. Without nginx the
test is skipped, or fails under ``TWOFOLD_REQUIRE_SERVICES=1``. The server block and its
included files are those docs/forward-auth.md shows (tested), with this machine's addresses.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import require_or_skip
from tests.peers.harness import free_port, running

NGINX_PATHS = ("/usr/sbin/nginx",)
# What Twofold's check answers and the application receives (api/idp/forward_auth.py).
MEMBER_HEADERS = (
    "X-Twofold-User",
    "X-Twofold-Email",
    "X-Twofold-Account",
    "X-Twofold-Account-Name",
    "X-Twofold-Role",
    "X-Twofold-Acr",
    "X-Twofold-Amr",
    "X-Twofold-Auth-Time",
)


def nginx_executable() -> str:
    found = shutil.which("nginx") or next((p for p in NGINX_PATHS if Path(p).exists()), None)
    if found is None:
        require_or_skip("nginx is not installed (apt-get install nginx)")
    return str(found)


# --- The application -----------------------------------------------------------------------------


@dataclass
class App:
    """The application behind nginx, and the headers of every request that reached it."""

    url: str
    received: list[dict[str, str]] = field(default_factory=list)


def _handler(app: App) -> type[BaseHTTPRequestHandler]:
    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = dict(self.headers.items())
            app.received.append({"path": self.path, "method": self.command, **headers})
            twofold = {name: self.headers.get(name) for name in MEMBER_HEADERS}
            if "application/json" in self.headers.get("Accept", ""):
                body = json.dumps({"path": self.path, "twofold": twofold}).encode()
                kind = "application/json"
            else:
                body = _page(self.path, twofold).encode()
                kind = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read ``received``

    return Echo


def _page(path: str, twofold: dict[str, str | None]) -> str:
    rows = "".join(
        f'<dt>{name}</dt><dd data-testid="{name.lower()}">{html.escape(value or "")}</dd>'
        for name, value in twofold.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The app</title></head>'
        f"<body><h1>The app behind nginx</h1><p>{html.escape(path)}</p><dl>{rows}</dl></body>"
        "</html>"
    )


@contextmanager
def echo_app() -> Iterator[App]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(App("")))
    app = App(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- nginx ---------------------------------------------------------------------------------------


def forward_auth_config(*, directory: Path, port: int, twofold: str, app: str) -> str:
    """nginx in front of ``app`` on ``port``, asking ``twofold`` about every request; the
    server block and its two included files are docs/forward-auth.md's."""
    twofold_host = urlsplit(twofold).netloc
    return f"""\
daemon off;
master_process off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;

    upstream twofold {{ server {twofold_host}; keepalive 16; }}

    server {{
        listen 127.0.0.1:{port};
        location = /nginx-ready {{ return 200; }}

        location = /_twofold/check {{
            internal;
            proxy_pass http://twofold/auth/forward;
            include twofold-check.conf;
        }}
        location = /_twofold/check-aal2 {{
            internal;
            proxy_pass http://twofold/auth/forward?aal=2;
            include twofold-check.conf;
        }}

        location / {{
            auth_request /_twofold/check;
            include twofold-member.conf;
            proxy_pass {app};
        }}
        location /admin/ {{
            auth_request /_twofold/check-aal2;
            include twofold-member.conf;
            proxy_pass {app};
        }}
        location @twofold_signin {{
            return 302 $twofold_signin;
        }}
    }}
}}
"""


def check_include(twofold_host: str) -> str:
    """``twofold-check.conf``: how each check goes to Twofold (over plain HTTP here, where the
    documented one says X-Forwarded-Proto https)."""
    return f"""\
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host {twofold_host};
proxy_set_header X-Forwarded-Proto $scheme;
proxy_pass_request_body off;
proxy_set_header Content-Length "";
proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
"""


def member_include() -> str:
    """``twofold-member.conf``: the way to the sign-in page, and the member's headers."""
    lines = [
        "auth_request_set $twofold_signin $upstream_http_location;",
        "error_page 401 = @twofold_signin;",
    ]
    for name in MEMBER_HEADERS:
        snake = name.lower().replace("-", "_")  # x_twofold_user
        lines.append(f"auth_request_set ${snake[2:]} $upstream_http_{snake};")
        lines.append(f"proxy_set_header {name} ${snake[2:]};")  # replaces what a client sent
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AppBehindNginx:
    url: str  # nginx: what the browser opens
    app: App
    config: str
    directory: Path

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def app_behind_nginx(twofold: str, *, port: int | None = None) -> Iterator[AppBehindNginx]:
    """nginx on ``port`` (a free one when omitted) protecting an echo application with
    ``twofold``'s forward-auth, until the block ends."""
    executable = nginx_executable()
    port = port or free_port()
    with echo_app() as app, tempfile.TemporaryDirectory(prefix="nginx-") as folder:
        directory = Path(folder)
        config = forward_auth_config(directory=directory, port=port, twofold=twofold, app=app.url)
        (directory / "nginx.conf").write_text(config)
        (directory / "twofold-check.conf").write_text(check_include(urlsplit(twofold).netloc))
        (directory / "twofold-member.conf").write_text(member_include())
        command = [
            executable, "-p", str(directory), "-c", str(directory / "nginx.conf"),
            "-e", str(directory / "error.log"),
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        with running("nginx", command, cwd=directory, ready_url=f"{url}/nginx-ready", env={}):
            yield AppBehindNginx(url, app, config, directory)
