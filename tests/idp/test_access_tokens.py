"""Access tokens are JWTs (RFC 9068) that carry the sign-in's assurance, so that an application's
API can require two factors without asking Twofold (idp/access_tokens.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import freshly_signed_in
from tests.idp.test_code_flow import (
    ISSUER,
    application,  # noqa: F401 (a fixture)
    id_token_claims,
)
from tests.idp.test_session_end import refresh, signed_in_to, userinfo
from twofold.idp.models import Application
from twofold.organizations.models import Membership

pytestmark = pytest.mark.django_db


def decoded(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set(Client().get("/oauth/.well-known/jwks.json").json())
    result = jwt.decode(token, keys, algorithms=["RS256"])
    return dict(result.header), dict(result.claims)


def test_rfc_9068_2_the_access_token_is_a_signed_jwt_with_the_required_claims(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    _, tokens = signed_in_to(application, administrator)
    header, claims = decoded(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    assert claims["iss"] == ISSUER
    assert claims["aud"] == application[0].client_id
    assert claims["client_id"] == application[0].client_id
    assert claims["sub"] == id_token_claims(tokens["id_token"])["sub"]
    assert claims["scope"] == "openid email profile"
    assert claims["exp"] - claims["iat"] == tokens["expires_in"]
    assert claims["jti"]


def test_rfc_9068_2_2_1_the_access_token_carries_the_sign_ins_assurance(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    browser = freshly_signed_in(Client(), administrator, second_factor="sms")
    _, tokens = signed_in_to(application, administrator, browser)
    _, claims = decoded(tokens["access_token"])
    id_claims = id_token_claims(tokens["id_token"])
    assert claims["acr"] == "urn:twofold:aal2"
    assert claims["amr"] == id_claims["amr"]
    assert claims["auth_time"] == id_claims["auth_time"]
    assert claims["sid"] == id_claims["sid"]


def test_a_refreshed_access_token_keeps_the_assurance_of_the_sign_in(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    browser = freshly_signed_in(Client(), administrator, second_factor="sms")
    _, tokens = signed_in_to(application, administrator, browser)
    first = decoded(tokens["access_token"])[1]
    again = decoded(refresh(application, tokens["refresh_token"]).json()["access_token"])[1]
    assert again["jti"] != first["jti"]
    for claim in ("acr", "amr", "auth_time", "sid", "sub"):
        assert again[claim] == first[claim], claim


def test_the_jwt_access_token_is_accepted_at_userinfo_and_a_forged_one_is_not(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    _, tokens = signed_in_to(application, administrator)
    assert userinfo(tokens["access_token"]) == 200
    head, body, signature = tokens["access_token"].split(".")
    assert userinfo(".".join([head, body, signature[:-4] + "AAAA"])) == 401


def test_the_refresh_token_is_no_jwt(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    _, tokens = signed_in_to(application, administrator)
    assert tokens["refresh_token"].count(".") == 0
