"""Real identity providers for the tests, started on 127.0.0.1 by the tests themselves.

- ``oidc_provider(...)``: panva's ``oidc-provider`` (OpenID-certified) playing Google or Microsoft,
  from ``tests/peers/oidc/provider.js``.
- ``saml_idp(...)``: ``saml-idp`` (signs Response and Assertion, rsa-sha256) with a certificate
  generated for the run by ``openssl``.

Each is a Node program installed in its folder by ``make test`` (``npm ci``). Each context manager
picks a free port, starts the program with ``subprocess.Popen`` (its PID is the server's), waits
until its discovery or metadata answers, and ends it with ``terminate()`` + ``wait()``. Without
Node or the installed folder the test is skipped, or fails under ``TWOFOLD_REQUIRE_SERVICES=1``.
Details and gotchas: ../shared/TESTING.md.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import require_or_skip

PEERS = Path(__file__).resolve().parent
START_TIMEOUT = 15.0
START_ATTEMPTS = 2
CALLBACK = "http://127.0.0.1:9/callback"  # never followed: the tests read the redirect
SAML_PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
SAML_MFA = "https://refeds.org/profile/mfa"
SAML_MICROSOFT_MFA = "http://schemas.microsoft.com/claims/multipleauthn"

# The peers need no database: they run once, in the SQLite pass.
sqlite_pass_only = pytest.mark.skipif(
    os.environ.get("TWOFOLD_TEST_BACKEND") == "services",
    reason="no database involved: runs in the SQLite pass",
)


class PeerDidNotStart(RuntimeError):
    pass


def local_browser() -> requests.Session:
    """A cookie-keeping HTTP client that never uses a proxy: the peers are on 127.0.0.1."""
    browser = requests.Session()
    browser.trust_env = False
    return browser


# --- Starting and stopping a peer ----------------------------------------------------------------


def require_installed(folder: Path) -> None:
    """Skip (or fail under TWOFOLD_REQUIRE_SERVICES=1) when the peer in ``folder`` cannot run."""
    if shutil.which("node") is None:
        require_or_skip("Node.js is not installed: the identity-provider peers need `node`")
    if not (folder / "node_modules").is_dir():
        require_or_skip(
            f"the {folder.name} peer is not installed: `make test` or `npm ci` in {folder}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, **options: Any) -> requests.Response:
    """One GET on 127.0.0.1, without a proxy."""
    with local_browser() as browser:
        return browser.get(url, timeout=5, **options)


def _answers(url: str) -> bool:
    try:
        return get(url).status_code == 200
    except requests.ConnectionError:
        return False


@contextmanager
def running(
    name: str, command: Sequence[str], *, cwd: Path, ready_url: str, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends; raise PeerDidNotStart with its output if it fails.

    A peer that has not answered after START_TIMEOUT is started once more: once in a full run,
    the OIDC provider printed nothing for 15 s and never listened (a slow start, not an error of
    ours); a peer that fails twice fails the tests."""
    with tempfile.TemporaryFile() as output:
        for attempt in range(1, START_ATTEMPTS + 1):
            process = subprocess.Popen(
                command, cwd=cwd, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
            )
            try:
                _wait_ready(name, process, ready_url, output)
                break
            except PeerDidNotStart:
                stop(process)
                if attempt == START_ATTEMPTS:
                    raise
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask ``process`` to end, and kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_ready(name: str, process: subprocess.Popen[bytes], url: str, output: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(url):
        if process.poll() is not None:
            raise PeerDidNotStart(f"{name} exited with {process.returncode}:\n{_read(output)}")
        if time.monotonic() > deadline:
            raise PeerDidNotStart(
                f"{name} did not answer {url} within {START_TIMEOUT:.0f} s:\n{_read(output)}"
            )
        time.sleep(0.05)


def _read(output: Any) -> str:
    output.seek(0)
    return str(output.read().decode(errors="replace"))


# --- Forms ---------------------------------------------------------------------------------------


class _Form(HTMLParser):
    """The action and the input values of the first form whose action is not empty."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.action is None and found.get("action"):
            self.action, self._inside = found["action"], True
        elif tag == "input" and self._inside and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def read_form(html: str) -> tuple[str, dict[str, str]]:
    form = _Form()
    form.feed(html)
    assert form.action is not None, f"no form in:\n{html[:500]}"
    return form.action, form.fields


# --- OpenID Connect ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    tid: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    # Where it listens (its issuer path included): the issuer, unless a proxy in front of it is
    # its public address (``public_origin``).
    address: str = ""

    def discovery(self) -> dict[str, Any]:
        answer = get(f"{self.issuer}/.well-known/openid-configuration")
        answer.raise_for_status()
        return dict(answer.json())

    def jwks(self) -> dict[str, Any]:
        answer = get(self.discovery()["jwks_uri"])
        answer.raise_for_status()
        return dict(answer.json())

    def sign_in(
        self,
        authorization_url: str,
        *,
        email: str,
        amr: Sequence[str] = ("pwd",),
        acr: str | None = None,
        sub: str | None = None,
        hd: str | None = None,
    ) -> str:
        """Play a person signing in at the provider; return the redirect to the client's callback.

        ``amr`` is what the provider asserts: ``("pwd", "mfa")`` plays a login with MFA; ``hd``
        a Google Workspace account of that domain.
        """
        form = {"email": email, "amr": " ".join(amr), "acr": acr or "", "sub": sub or ""}
        form["hd"] = hd or ""
        with local_browser() as browser:
            return self._follow(browser, authorization_url, form)

    def _follow(self, browser: requests.Session, url: str, form: dict[str, str]) -> str:
        for _ in range(10):
            if url.startswith(self.redirect_uri):
                return url
            if "/interaction/" in url:
                assert browser.get(url, timeout=5).status_code == 200
                answer = browser.post(url, data=form, allow_redirects=False, timeout=5)
            else:
                answer = browser.get(url, allow_redirects=False, timeout=5)
            assert answer.is_redirect, f"{answer.status_code} at {url}: {answer.text[:500]}"
            url = urljoin(url, answer.headers["location"])
        raise AssertionError(f"the provider never redirected to {self.redirect_uri}")


@contextmanager
def oidc_provider(
    *,
    redirect_uri: str = CALLBACK,
    client_id: str = "twofold",
    client_secret: str = "twofold-client-secret",
    issuer_path: str = "",
    tid: str | None = None,
    public_origin: str | None = None,
) -> Iterator[OidcProvider]:
    """An OpenID Connect provider with one confidential client (client_secret_basic, PKCE).

    ``issuer_path`` (``/<tid>/v2.0``) gives it a Microsoft-like issuer, ``tid`` a ``tid`` claim;
    ``public_origin`` (``http://127.0.0.1:<port>``) makes a proxy there its public address: the
    issuer, and every endpoint its discovery names, are the proxy's.
    """
    folder = PEERS / "oidc"
    require_installed(folder)
    port = free_port()
    path = issuer_path.rstrip("/")
    address = f"http://127.0.0.1:{port}{path}"
    issuer = f"{public_origin}{path}" if public_origin else address
    env = {
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_ISSUER_PATH": issuer_path,
        "OIDC_TID": tid or "",
        "OIDC_PUBLIC_ORIGIN": public_origin or "",
    }
    command = ["node", "provider.js", str(port)]
    ready = f"{address}/.well-known/openid-configuration"
    with running("oidc-provider", command, cwd=folder, ready_url=ready, env=env) as process:
        yield OidcProvider(
            issuer, client_id, client_secret, redirect_uri, tid, process, address=address
        )


# --- SAML ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamlPost:
    """What the identity provider's auto-submitting form posts to the ACS."""

    acs_url: str
    saml_response: str
    relay_state: str

    @property
    def xml(self) -> bytes:
        return base64.b64decode(self.saml_response)


@dataclass(frozen=True)
class SamlIdp:
    url: str
    entity_id: str
    acs_url: str
    audience: str
    certificate: str  # PEM
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    # Its signing key (PEM), so tests can re-sign a response changed in one checked property.
    key: str = field(default="", repr=False, compare=False)

    @property
    def sso_url(self) -> str:
        return f"{self.url}/saml/sso"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    def set_authn_context(self, class_ref: str) -> None:
        """Assert ``class_ref`` as the AuthnContextClassRef of the next sign-ins."""
        with local_browser() as browser:
            answer = browser.post(
                f"{self.url}/settings",
                data={"authnContextClassRef": class_ref},
                allow_redirects=False,
                timeout=5,
            )
        assert answer.is_redirect, f"{answer.status_code}: {answer.text[:500]}"

    def sign_in(
        self, saml_request: str, *, email: str, relay_state: str = "", **attributes: str
    ) -> SamlPost:
        """Play a person signing in (there is no password check); return the form for the ACS."""
        query = {"SAMLRequest": saml_request, "RelayState": relay_state}
        with local_browser() as browser:
            return self._post_profile(browser, query, email, attributes)

    def _post_profile(
        self,
        browser: requests.Session,
        query: dict[str, str],
        email: str,
        attributes: dict[str, str],
    ) -> SamlPost:
        profile = browser.get(self.sso_url, params=query, timeout=5)
        _, fields = read_form(profile.text)
        assert "_authnRequest" in fields, f"the AuthnRequest was refused:\n{profile.text[:1000]}"
        form = {"_authnRequest": fields["_authnRequest"], "userName": email, "email": email}
        answer = browser.post(f"{self.url}/signin", data={**form, **attributes}, timeout=5)
        action, posted = read_form(answer.text)
        assert "SAMLResponse" in posted, f"no SAMLResponse in:\n{answer.text[:1000]}"
        return SamlPost(action, posted["SAMLResponse"], posted.get("RelayState", ""))


def redirect_authn_request(request_id: str, *, issuer: str, acs_url: str, destination: str) -> str:
    """A SAML AuthnRequest encoded for the HTTP-Redirect binding (deflate, then base64)."""
    xml = (
        '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        f'ID="{request_id}" Version="2.0" IssueInstant="{time.strftime("%Y-%m-%dT%H:%M:%SZ")}" '
        f'Destination="{destination}" AssertionConsumerServiceURL="{acs_url}" '
        'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
        f"<saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"
    )
    deflate = zlib.compressobj(wbits=-15)
    return base64.b64encode(deflate.compress(xml.encode()) + deflate.flush()).decode()


@contextmanager
def saml_idp(
    *,
    acs_url: str = "http://127.0.0.1:9/saml/acs/",
    audience: str = "http://127.0.0.1:9/saml/metadata/",
    entity_id: str = "urn:test:saml-idp",
    authn_context: str = SAML_PASSWORD,
) -> Iterator[SamlIdp]:
    """A SAML identity provider whose signing certificate is made for this run."""
    folder = PEERS / "saml"
    require_installed(folder)
    if shutil.which("openssl") is None:
        require_or_skip("openssl is not installed: the SAML peer's certificate needs it")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as keys:
        cert, key = Path(keys) / "idp-cert.pem", Path(keys) / "idp-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "1",
             "-subj", "/CN=saml-idp.test", "-keyout", key, "-out", cert],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        command = [
            "node", "node_modules/saml-idp/bin/run.js", "--host", "127.0.0.1", "--port", str(port),
            "--cert", str(cert), "--key", str(key), "--issuer", entity_id, "--acsUrl", acs_url,
            "--audience", audience, "--acr", authn_context,
            "--configFile", str(folder / "node_modules/saml-idp/config.js"),
        ]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        ready = f"{url}/metadata"
        with running("saml-idp", command, cwd=folder, ready_url=ready, env={}) as process:
            yield SamlIdp(
                url, entity_id, acs_url, audience, cert.read_text(), process, key.read_text()
            )
