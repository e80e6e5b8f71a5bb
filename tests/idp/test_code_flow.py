"""The authorization code flow of Twofold's identity provider, driven as a relying party does:
PKCE S256, the code at the token endpoint, the ID token checked with the provider's published
keys (joserfc), and the assurance of the Twofold session carried in it (OIDC Core 1.0 2,
RFC 8176, RFC 9700)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import IDToken

from tests.concurrency import at_once
from tests.conftest import PASSWORD, freshly_signed_in
from twofold.idp.models import Application
from twofold.idp.validator import ACCOUNT_CLAIM
from twofold.organizations.models import Membership

REDIRECT = "http://127.0.0.1:9000/callback"
ISSUER = settings.TWOFOLD.public_url.rstrip("/") + "/oauth"


@pytest.fixture
def application(administrator: Membership) -> tuple[Application, str]:
    """A confidential application of the administrator's account, and its secret in clear."""
    secret = secrets.token_urlsafe(32)
    app = Application.objects.create(
        name="Acme Wiki",
        organization=administrator.organization,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return app, secret


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(client: Client, app: Application, challenge: str, **extra: str) -> Any:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "s-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return client.get("/oauth/authorize/?" + urlencode(query))


def callback_parameters(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def redeem(app: Application, secret: str, code: str, verifier: str) -> Any:
    return Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": app.client_id,
            "client_secret": secret,
        },
    )


def id_token_claims(token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(Client().get("/oauth/.well-known/jwks.json").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    return dict(decoded.claims)


def test_oidc_core_the_id_token_carries_the_sms_sign_in_as_aal2(
    application: tuple[Application, str], administrator: Membership, sms_outbox: Any
) -> None:
    """A real sign-in (password, then the texted code), then the code flow."""
    from tests.conftest import give_sms_factor

    give_sms_factor(administrator)
    app, secret = application
    client = Client()
    client.post("/accounts/login/", {"login": administrator.user.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/", {"code": sms_outbox.last_code()}).status_code == 302
    signed_in_at = time.time()
    verifier, challenge = pkce()

    parameters = callback_parameters(authorize(client, app, challenge))
    assert parameters["state"] == "s-123"
    assert parameters["iss"] == ISSUER  # RFC 9207
    tokens = redeem(app, secret, parameters["code"], verifier)
    assert tokens.status_code == 200, tokens.content

    claims = id_token_claims(tokens.json()["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == app.client_id
    assert claims["sub"] == str(administrator.user.pk)
    assert claims["nonce"] == "n-456"
    assert claims["amr"] == ["pwd", "sms"]
    assert claims["acr"] == "urn:twofold:aal2"
    assert abs(claims["auth_time"] - signed_in_at) < 30
    assert claims["sid"]
    assert claims["email"] == administrator.user.email
    assert claims[ACCOUNT_CLAIM] == {
        "id": str(administrator.organization_id),
        "name": administrator.organization.name,
        "role": administrator.role,
    }


def test_oidc_core_a_password_only_session_is_aal1_with_pwd(
    application: tuple[Application, str], administrator: Membership
) -> None:
    app, secret = application
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, app, challenge))["code"]
    claims = id_token_claims(redeem(app, secret, code, verifier).json()["id_token"])
    assert (claims["amr"], claims["acr"]) == (["pwd"], "urn:twofold:aal1")


def test_a_member_of_another_account_gets_access_denied_and_no_code(
    application: tuple[Application, str], other_administrator: Membership
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), other_administrator, second_factor="sms")
    parameters = callback_parameters(authorize(client, app, pkce()[1]))
    assert parameters["error"] == "access_denied"
    assert "code" not in parameters


def test_a_browser_without_a_session_is_sent_to_sign_in_first(
    application: tuple[Application, str],
) -> None:
    app, _ = application
    response = authorize(Client(), app, pkce()[1])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oauth/authorize/")


def test_rfc_9700_2_1_1_a_request_without_pkce_is_refused(
    application: tuple[Application, str], administrator: Membership
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
    }
    parameters = callback_parameters(client.get("/oauth/authorize/?" + urlencode(query)))
    assert parameters["error"] == "invalid_request"
    assert "code" not in parameters


def test_rfc_9700_2_1_1_the_plain_pkce_method_is_refused(
    application: tuple[Application, str], administrator: Membership
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    verifier = secrets.token_urlsafe(48)
    response = authorize(client, app, verifier, code_challenge_method="plain")
    assert "code=" not in response.get("Location", "")


@pytest.mark.parametrize("earlier_id_tokens", [0, 3])
def test_rfc_6749_4_1_2_a_second_redemption_is_refused_and_revokes_the_first_ones_tokens(
    application: tuple[Application, str], administrator: Membership, earlier_id_tokens: int
) -> None:
    """Also when the ID tokens' ids run ahead of the access tokens' (as soon as any refresh or
    revocation happened on the instance): the grant names its access token, not its ID token."""
    app, secret = application
    for _ in range(earlier_id_tokens):
        IDToken.objects.create(
            user=administrator.user,
            application=app,
            jti=uuid.uuid4(),
            expires=timezone.now(),
            scope="openid",
        )
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, app, challenge))["code"]
    first = redeem(app, secret, code, verifier)
    assert first.status_code == 200
    access, refresh = first.json()["access_token"], first.json()["refresh_token"]
    assert (
        Client().get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    )

    again = redeem(app, secret, code, verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert (
        Client().get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    )
    refreshed = Client().post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": app.client_id,
            "client_secret": secret,
        },
    )
    assert refreshed.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_rfc_6749_4_1_2_a_code_redeemed_by_20_requests_at_once_gives_one_token(
    application: tuple[Application, str], administrator: Membership
) -> None:
    app, secret = application
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, app, challenge))["code"]

    outcomes = at_once(lambda: redeem(app, secret, code, verifier).status_code)

    assert sorted(outcomes) == [200] + [400] * 19, outcomes


def test_rfc_9700_a_wrong_code_verifier_is_refused(
    application: tuple[Application, str], administrator: Membership
) -> None:
    app, secret = application
    client = freshly_signed_in(Client(), administrator)
    _, challenge = pkce()
    code = callback_parameters(authorize(client, app, challenge))["code"]
    refused = redeem(app, secret, code, pkce()[0])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_discovery_names_the_issuer_and_only_the_code_flow() -> None:
    document = Client().get("/oauth/.well-known/openid-configuration").json()
    assert document["issuer"] == ISSUER
    assert document["response_types_supported"] == ["code"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["acr_values_supported"] == ["urn:twofold:aal1", "urn:twofold:aal2"]
    assert {"amr", "acr", "auth_time", "sid"} <= set(document["claims_supported"])
    assert document["revocation_endpoint"] == ISSUER + "/revoke_token/"
    assert document["introspection_endpoint"] == ISSUER + "/introspect/"
    assert document["authorization_response_iss_parameter_supported"] is True
