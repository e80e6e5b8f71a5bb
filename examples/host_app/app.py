"""A host application behind Twofold: Flask, with Authlib as its OpenID Connect client.

- ``/login``: the code flow with PKCE (S256), state and nonce, from Twofold's discovery document.
  Authlib checks the ID token: its signature with Twofold's keys, ``iss``, ``aud``, ``exp``,
  ``nonce``, ``at_hash``.
- ``/``: who is signed in, and how strongly (``acr``, ``amr``, ``auth_time``).
- ``/admin``: only for a session with a second factor (``urn:twofold:aal2``) and an
  authentication in the last ADMIN_MAX_AGE seconds; otherwise the browser goes back to Twofold
  with ``acr_values`` and ``max_age``, and Twofold asks for what is missing first (step-up).
- ``/logout``: OpenID Connect RP-Initiated Logout 1.0, with ``id_token_hint``.
- ``/backchannel-logout``: OpenID Connect Back-Channel Logout 1.0; Twofold's logout token ends
  the local session of its ``sid``, whichever way the Twofold session ended.

Settings: TWOFOLD_ISSUER (Twofold's public URL + ``/oauth``), CLIENT_ID, CLIENT_SECRET, APP_URL;
ADMIN_MAX_AGE (seconds, default 600) and SECRET_KEY (signs the session cookie) are optional.
"""

from __future__ import annotations

import os
import secrets
import time
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, redirect, render_template_string, request, session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

ISSUER = os.environ["TWOFOLD_ISSUER"].rstrip("/")
CLIENT_ID = os.environ["CLIENT_ID"]
APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:5000").rstrip("/")
ADMIN_MAX_AGE = int(os.environ.get("ADMIN_MAX_AGE", "600"))
AAL2 = "urn:twofold:aal2"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ["RS256"]  # what Twofold signs with; never "none" or HS256

app = Flask(__name__)
app.secret_key = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
app.config.update(
    SESSION_COOKIE_NAME="host_app_session",  # Twofold on the same host keeps its own cookies
    SESSION_COOKIE_SAMESITE="Lax",  # not sent on another site's POST: no one else signs you out
    SESSION_COOKIE_SECURE=APP_URL.startswith("https://"),
)
twofold: Any = OAuth(app).register(
    "twofold",
    client_id=CLIENT_ID,
    client_secret=os.environ["CLIENT_SECRET"],
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
)
# The Twofold sessions signed in here, by ``sid``, so that a logout token can end one without
# the browser. One process's memory: keep them in your database with more than one process.
SIGNED_IN: dict[str, dict[str, Any]] = {}

PAGE = """<!doctype html><title>Host app</title>
{% if message %}<p><strong>{{ message }}</strong></p>{% endif %}
{% if claims %}{% set account = claims["urn:twofold:account"] %}
<p>Signed in as {{ claims.email }} ({{ account.name }}, {{ account.role }})</p>
<p>acr: {{ claims.acr }}; amr: {{ claims.amr|join(" ") }}; auth_time: {{ claims.auth_time }}</p>
{% if admin %}<h1>Admin area</h1>{% else %}<p><a href="/admin">Admin area</a></p>{% endif %}
<form method="post" action="/logout"><button>Sign out</button></form>
{% else %}<p>Signed out. <a href="/login">Sign in with Twofold</a></p>{% endif %}"""


def show(signed_in: dict[str, Any] | None, message: str = "", admin: bool = False) -> str:
    claims = signed_in["claims"] if signed_in else None
    return render_template_string(PAGE, claims=claims, message=message, admin=admin)


def current() -> dict[str, Any] | None:
    return SIGNED_IN.get(session.get("sid", ""))


def admin_enough(claims: dict[str, Any]) -> bool:
    """A second factor, and an authentication in the last ADMIN_MAX_AGE seconds."""
    return claims.get("acr") == AAL2 and time.time() - claims.get("auth_time", 0) <= ADMIN_MAX_AGE


@app.get("/")
def home() -> str:
    return show(current())


@app.get("/login")
def login() -> Any:
    return twofold.authorize_redirect(f"{APP_URL}/callback")


@app.get("/callback")
def callback() -> Any:
    if request.args.get("iss") != ISSUER:  # RFC 9207: the answer comes from Twofold, no mix-up
        return show(current(), "That answer did not come from Twofold."), 400
    try:
        token = twofold.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": ISSUER},
                "aud": {"essential": True, "value": CLIENT_ID},
            }
        )
    except OAuthError as error:  # e.g. unmet_authentication_requirements: no second factor
        return show(current(), f"Twofold did not sign you in: {error.error}"), 403
    claims = dict(token["userinfo"])
    SIGNED_IN[claims["sid"]] = {"claims": claims, "id_token": token["id_token"]}
    session["sid"] = claims["sid"]
    target = session.pop("next", "/")
    if target == "/admin" and not admin_enough(claims):  # never loop back to Twofold
        return show(current(), "The admin area needs a second factor."), 403
    return redirect(target)


@app.get("/admin")
def admin() -> Any:
    signed_in = current()
    if signed_in is None or not admin_enough(signed_in["claims"]):
        session["next"] = "/admin"
        return twofold.authorize_redirect(
            f"{APP_URL}/callback", acr_values=AAL2, max_age=ADMIN_MAX_AGE
        )
    return show(signed_in, admin=True)


@app.post("/logout")
def logout() -> Any:
    signed_in = SIGNED_IN.pop(session.pop("sid", ""), None)
    if signed_in is None:
        return redirect("/")
    # An expired ID token is no hint Twofold takes: name the application instead (RP-Initiated
    # Logout 1.0 section 2); Twofold asks the member to confirm either way.
    fresh = signed_in["claims"]["exp"] > time.time() + 10
    hint = {"id_token_hint": signed_in["id_token"]} if fresh else {"client_id": CLIENT_ID}
    return twofold.logout_redirect(f"{APP_URL}/logged-out", **hint)


@app.get("/logged-out")
def logged_out() -> str:
    with suppress(OAuthError):
        twofold.validate_logout_response()  # drops the state kept for this logout
    return show(None, "You are signed out of this app and of Twofold.")


@app.post("/backchannel-logout")
def backchannel_logout() -> Any:
    try:
        claims = logout_token_claims(request.form.get("logout_token", ""))
    except (JoseError, ValueError) as error:
        return {"error": "invalid_request", "error_description": str(error)}, 400
    SIGNED_IN.pop(claims["sid"], None)
    return "", 200, {"Cache-Control": "no-store"}  # section 2.8


def logout_token_claims(token: str) -> dict[str, Any]:
    """Back-Channel Logout 1.0 section 2.6: signed with Twofold's key, for this application, in
    date, the logout event, and no ``nonce`` (an ID token is not a logout token)."""
    try:
        keys = KeySet.import_key_set(twofold.fetch_jwk_set())
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except InvalidKeyIdError:  # Twofold rotated its signing key: fetch the keys again, once
        keys = KeySet.import_key_set(twofold.fetch_jwk_set(force=True))
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    essential: Any = {"essential": True}
    jwt.JWTClaimsRegistry(
        leeway=30,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        **dict.fromkeys(("iat", "exp", "jti", "sid", "events"), essential),
    ).validate(decoded.claims)
    events = decoded.claims["events"]
    typed = decoded.header.get("typ") == "logout+jwt"  # section 2.4: no other kind of JWT
    if not typed or not isinstance(events, dict) or LOGOUT_EVENT not in events:
        raise ValueError("not a logout token")
    if "nonce" in decoded.claims:  # section 2.4: prohibited, so that no ID token passes
        raise ValueError("a logout token has no nonce")
    return decoded.claims


if __name__ == "__main__":
    address = urlsplit(APP_URL)
    app.run(host=address.hostname or "127.0.0.1", port=address.port or 5000)
