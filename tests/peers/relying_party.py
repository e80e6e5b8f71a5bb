"""Real relying parties for Twofold's OpenID Connect provider, on 127.0.0.1.

``openid_client_rp(...)`` runs ``tests/peers/rp/rp.js``: panva's ``openid-client``
(OpenID-certified) in a tiny web server whose ``/login`` sends the browser to Twofold (PKCE S256,
state, nonce) and whose ``/callback`` answers, as JSON, the ID token's claims once openid-client
has checked it (signature against the JWKS, ``iss``, ``aud``, ``exp``, ``nonce``, ``auth_time``
against ``max_age``) and the authorization response's ``iss`` (RFC 9207). Installed and started
like the identity-provider peers of ``harness.py``: ``npm ci`` by ``make test``,
``subprocess.Popen``, ready when it answers, ``terminate()`` + ``wait()``; skipped without Node or
the installed folder (a failure under ``TWOFOLD_REQUIRE_SERVICES=1``).

``AuthlibClient``: Authlib's ``OAuth2Session`` (PKCE S256), whose ID tokens are checked with
joserfc against the JWKS and with Authlib's claim rules for the code flow.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt

from tests.peers.harness import PEERS, require_installed, running
from tests.peers.served_twofold import Browser, Twofold

# Authlib's callback is never served: the browser stops at the redirect and hands it over.
AUTHLIB_CALLBACK = "http://127.0.0.1:9/authlib/callback"


@dataclass(frozen=True)
class RelyingParty:
    url: str
    client_id: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.url}/logged-out"

    def refresh(self, browser: requests.Session, refresh_token: str | None = None) -> Any:
        """A refresh grant by the relying party: the browser session's latest refresh token, or
        ``refresh_token``."""
        params = {"refresh_token": refresh_token} if refresh_token else {}
        return browser.post(f"{self.url}/refresh", params=params, timeout=10)


def redirect_uris(port: int) -> tuple[str, str]:
    """The callback and the post-logout URI of a relying party on ``port``, to register first."""
    return f"http://127.0.0.1:{port}/callback", f"http://127.0.0.1:{port}/logged-out"


def require_openid_client() -> None:
    require_installed(PEERS / "rp")


@contextmanager
def openid_client_rp(
    *, port: int, issuer: str, client_id: str, client_secret: str | None = None
) -> Iterator[RelyingParty]:
    """openid-client on ``port`` as the application ``client_id`` (client_secret_basic; a public
    client without ``client_secret``), registered with :func:`redirect_uris` of ``port``."""
    folder = PEERS / "rp"
    require_installed(folder)
    url = f"http://127.0.0.1:{port}"
    env = {
        "RP_ISSUER": issuer,
        "RP_CLIENT_ID": client_id,
        "RP_CLIENT_SECRET": client_secret or "",
        "RP_POST_LOGOUT_REDIRECT_URI": redirect_uris(port)[1],
    }
    command = ["node", "rp.js", str(port)]
    with running("openid-client", command, cwd=folder, ready_url=f"{url}/health", env=env) as rp:
        yield RelyingParty(url, client_id, rp)


# --- Authlib ----------------------------------------------------------------------------------


@dataclass
class AuthlibSignIn:
    """An authorization request made by Authlib, and the callback the browser reached."""

    session: OAuth2Session
    state: str
    verifier: str
    nonce: str
    callback: str = ""


@dataclass(frozen=True)
class AuthlibClient:
    """An application registered with :data:`AUTHLIB_CALLBACK`: confidential
    (client_secret_basic) with a secret, public (PKCE only) without."""

    client_id: str
    client_secret: str | None

    def session(self) -> OAuth2Session:
        session = OAuth2Session(
            self.client_id,
            self.client_secret,
            scope="openid email profile",
            redirect_uri=AUTHLIB_CALLBACK,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
        )
        session.trust_env = False  # only 127.0.0.1
        return session

    def authorize(self, browser: Browser) -> AuthlibSignIn:
        """Authlib's authorization request (PKCE S256, state, nonce), followed by ``browser`` to
        the callback, whose ``iss`` must be Twofold's (RFC 9207; Authlib does not check it)."""
        twofold = browser.twofold
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        started = AuthlibSignIn(self.session(), "", verifier, nonce)
        url, started.state = started.session.create_authorization_url(
            twofold.discovery()["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        started.callback = browser.follow(url, stop_at=AUTHLIB_CALLBACK).visited[-1]
        assert started.callback.startswith(f"{AUTHLIB_CALLBACK}?"), started.callback
        assert parse_qs(urlsplit(started.callback).query)["iss"] == [twofold.issuer]
        return started

    def sign_in(self, browser: Browser) -> tuple[OAuth2Session, dict[str, Any]]:
        """The code flow; Authlib's session (holding the tokens) and the ID token's claims."""
        started = self.authorize(browser)
        token = started.session.fetch_token(
            browser.twofold.discovery()["token_endpoint"],
            authorization_response=started.callback,
            state=started.state,
            code_verifier=started.verifier,
        )
        return started.session, self.id_token_claims(browser.twofold, token, nonce=started.nonce)

    def id_token_claims(
        self, twofold: Twofold, token: dict[str, Any], *, nonce: str | None
    ) -> dict[str, Any]:
        """The ID token's signature checked with the JWKS (joserfc), then its claims with
        Authlib's rules for the code flow (OIDC Core 3.1.3.7: iss, aud, azp, exp, iat, nonce,
        at_hash)."""
        decoded = jwt.decode(token["id_token"], twofold.keys(), algorithms=["RS256"])
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": twofold.issuer},
                "aud": {"essential": True, "value": self.client_id},
            },
            params={
                "nonce": nonce,
                "client_id": self.client_id,
                "access_token": token["access_token"],
            },
        )
        claims.validate(leeway=5)
        return dict(claims)
