"""A man in the middle between Twofold and an OpenID Connect peer: forges what the peer never would.

The peer (``oidc-provider``) only issues good ID tokens. Two placements of the proxy, on 127.0.0.1:

- ``forging_proxy(**peer options)``: the proxy *is* the provider's public address. The peer is
  started with its issuer at the proxy (``public_origin``), so the issuer, the discovery document
  and every endpoint it names are the proxy's, as for a man in the middle at the issuer's own
  address. The proxy forwards every request to the peer, except: the token answer, whose ID token
  it passes through ``forge``; its JWKS, the peer's plus ``published_key`` (a token re-signed with
  that key passes the signature check, so a test that edits one claim is refused for that claim
  alone); and its discovery document, passed through ``rewrite`` when a test sets one.
- ``impostor(peer)``: a server at an address of its own that serves the peer's discovery document
  as its own (its ``issuer`` stays the peer's), with the token endpoint and the JWKS at itself:
  the document OpenID Connect Discovery 1.0 §4.3 says to refuse, since its issuer is not the
  address it was fetched from. The browser still signs in at the real peer.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.harness import OidcProvider, local_browser, oidc_provider

# The peer's ID token -> the ID token Twofold receives (None: the answer carries none).
Forge = Callable[[str], str | None]
# The discovery document the peer serves -> the one Twofold receives.
Rewrite = Callable[[dict[str, Any]], dict[str, Any]]

PUBLISHED_KID = "forging-proxy-published-key"
# Not forwarded: they describe one connection, not the request.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class ForgingProxy:
    peer: OidcProvider | None = None
    upstream: str = ""  # where the peer listens, its issuer path included
    url: str = ""  # where this proxy's discovery document is: the server URL Twofold is given
    published_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    forge: Forge | None = None
    rewrite: Rewrite | None = None
    token_requests: list[bytes] = field(default_factory=list)
    token_answers: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.forge = None
        self.rewrite = None
        self.token_requests.clear()
        self.token_answers.clear()

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` signed RS256 with the key this "provider" publishes."""
        headers = {"kid": PUBLISHED_KID}
        return jwt.encode(claims, self.published_key, algorithm="RS256", headers=headers)

    def _upstream(self, path: str) -> Any:
        with local_browser() as browser:
            answer = browser.get(f"{self.upstream}{path}", timeout=5)
        answer.raise_for_status()
        return answer.json()

    def discovery(self) -> dict[str, Any]:
        config = dict(self._upstream("/.well-known/openid-configuration"))
        config.update(token_endpoint=f"{self.url}/token", jwks_uri=f"{self.url}/jwks")
        return self.rewrite(config) if self.rewrite is not None else config

    def genuine_jwks(self) -> dict[str, Any]:
        """The peer's own keys, without the published one."""
        return dict(self._upstream("/jwks"))

    def jwks(self) -> dict[str, Any]:
        published = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.published_key.public_key()))
        published.update(kid=PUBLISHED_KID, use="sig", alg="RS256")
        return {"keys": [*self.genuine_jwks()["keys"], published]}

    def token(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(body)
        with local_browser() as browser:
            answer = browser.post(f"{self.upstream}/token", data=body, headers=headers, timeout=5)
        document = dict(answer.json())
        self.token_answers.append(document)
        if answer.status_code == 200 and self.forge is not None and "id_token" in document:
            forged = self.forge(document.pop("id_token"))
            if forged is not None:
                document["id_token"] = forged
        return answer.status_code, document

    def forward(
        self, method: str, path: str, body: bytes | None, headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The peer's answer to the request, unchanged (its cookies and redirects included)."""
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=5)
        try:
            kept = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
            connection.request(method, path, body=body, headers=kept)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _route(self) -> str:
        base = urlsplit(self.server.proxy.url).path
        path = self.path.split("?", 1)[0]
        return path.removeprefix(base) if path.startswith(base) else path

    def do_GET(self) -> None:
        proxy = self.server.proxy
        routes = {"/.well-known/openid-configuration": proxy.discovery, "/jwks": proxy.jwks}
        route = routes.get(self._route())
        if route is None:
            self._forward()
            return
        self._answer(200, route())

    def do_POST(self) -> None:
        if self._route() != "/token":
            self._forward()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        forwarded = {k: v for k in ("Authorization", "Content-Type") if (v := self.headers.get(k))}
        self._answer(*self.server.proxy.token(body, forwarded))

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        status, headers, content = self.server.proxy.forward(
            self.command, self.path, body, list(self.headers.items())
        )
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

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
def _serving(proxy: ForgingProxy) -> Iterator[str]:
    """Serve ``proxy`` on a free port until the block ends; its origin."""
    server = _Server(proxy)
    thread = threading.Thread(target=server.serve_forever, name="forging-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def forging_proxy(**options: Any) -> Iterator[ForgingProxy]:
    """A peer (``oidc_provider(**options)``) whose public address is a :class:`ForgingProxy`:
    ``proxy.peer.issuer`` is the proxy's, and the server URL to give Twofold."""
    proxy = ForgingProxy()
    with _serving(proxy) as origin, oidc_provider(public_origin=origin, **options) as peer:
        proxy.peer, proxy.upstream, proxy.url = peer, peer.address, peer.issuer
        yield proxy


@contextmanager
def impostor(peer: OidcProvider) -> Iterator[ForgingProxy]:
    """A server of its own serving ``peer``'s discovery document (issuer: the peer's) with the
    token endpoint and the JWKS at itself; ``proxy.url`` is its address."""
    proxy = ForgingProxy(peer=peer, upstream=peer.address or peer.issuer)
    with _serving(proxy) as origin:
        proxy.url = origin
        yield proxy
