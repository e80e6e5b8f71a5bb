"""A man in the middle between Twofold and an OpenID Connect peer: forges what the peer never would.

The peer (``oidc-provider``) only issues good ID tokens. This proxy, on 127.0.0.1, serves the
peer's discovery with ``token_endpoint`` and ``jwks_uri`` pointing at itself, forwards the token
request to the peer, and passes the ID token of the answer through ``forge`` before Twofold sees
it. Its JWKS is the peer's plus ``published_key``: a token re-signed with that key passes the
signature check, so a test that edits one claim is refused for that claim alone. The issuer and
the authorization endpoint stay the peer's: the browser signs in at the real peer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.harness import OidcProvider, local_browser

# The peer's ID token -> the ID token Twofold receives (None: the answer carries none).
Forge = Callable[[str], str | None]

PUBLISHED_KID = "forging-proxy-published-key"


@dataclass
class ForgingProxy:
    peer: OidcProvider
    url: str = ""
    published_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    forge: Forge | None = None
    token_requests: list[bytes] = field(default_factory=list)
    token_answers: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.forge = None
        self.token_requests.clear()
        self.token_answers.clear()

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` signed RS256 with the key this "provider" publishes."""
        headers = {"kid": PUBLISHED_KID}
        return jwt.encode(claims, self.published_key, algorithm="RS256", headers=headers)

    def discovery(self) -> dict[str, Any]:
        config = self.peer.discovery()
        return {**config, "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks"}

    def jwks(self) -> dict[str, Any]:
        published = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.published_key.public_key()))
        published.update(kid=PUBLISHED_KID, use="sig", alg="RS256")
        return {"keys": [*self.peer.jwks()["keys"], published]}

    def token(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(body)
        with local_browser() as browser:
            answer = browser.post(
                self.peer.discovery()["token_endpoint"], data=body, headers=headers, timeout=5
            )
        document = dict(answer.json())
        self.token_answers.append(document)
        if answer.status_code == 200 and self.forge is not None and "id_token" in document:
            forged = self.forge(document.pop("id_token"))
            if forged is not None:
                document["id_token"] = forged
        return answer.status_code, document


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        proxy = self.server.proxy
        routes = {"/.well-known/openid-configuration": proxy.discovery, "/jwks": proxy.jwks}
        if self.path not in routes:
            self._answer(404, {"error": "not_found"})
            return
        self._answer(200, routes[self.path]())

    def do_POST(self) -> None:
        if self.path != "/token":
            self._answer(404, {"error": "not_found"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        forwarded = {k: v for k in ("Authorization", "Content-Type") if (v := self.headers.get(k))}
        self._answer(*self.server.proxy.token(body, forwarded))

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        content = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read what they need from the proxy, not from stderr


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: ForgingProxy) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.proxy = proxy


@contextmanager
def forging_proxy(peer: OidcProvider) -> Iterator[ForgingProxy]:
    """A :class:`ForgingProxy` in front of ``peer``, on a free port, until the block ends."""
    proxy = ForgingProxy(peer)
    server = _Server(proxy)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="forging-proxy", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
