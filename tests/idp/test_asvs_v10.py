"""ASVS 5.0 V10 (OAuth and OIDC), the rows of an authorization server and OpenID Provider, one
test each where no other test already carries the row's name (docs/security.md lists them all).

Rows of a client or resource server (10.1, 10.2, 10.3, 10.5) are the applications' to meet; the
relying-party peers check Twofold's answers against them (tests/peers/test_relying_parties.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.conftest import freshly_signed_in
from tests.idp.test_code_flow import (
    REDIRECT,
    application,  # noqa: F401 (a fixture)
    authorize,
    callback_parameters,
    pkce,
    redeem,
)
from tests.idp.test_session_end import assert_tokens_ended, refresh, signed_in_to, userinfo
from tests.sessions.test_member_sessions import SAFARI, browser
from twofold import clock
from twofold.audit.models import AuditEvent
from twofold.idp.models import Application, Grant
from twofold.organizations.models import Membership
from twofold.sessions import member_sessions

pytestmark = pytest.mark.django_db


def authorization(client: Client, app: Application, **changes: str) -> Any:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        **changes,
    }
    return client.get("/oauth/authorize/?" + urlencode(query))


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT + "/",
        REDIRECT + "?extra=1",
        REDIRECT.replace("9000", "9001"),
        REDIRECT.upper(),
        "http://127.0.0.1:9000/callback/../evil",
        "https://evil.example/callback",
    ],
)
def test_asvs_10_4_1_a_redirect_uri_is_matched_exactly_and_never_followed_otherwise(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    redirect_uri: str,
) -> None:
    client = freshly_signed_in(Client(), administrator)
    answer = authorization(client, application[0], redirect_uri=redirect_uri)
    assert answer.status_code == 400  # an error page of Twofold's, not a redirect to it
    assert not Grant.objects.exists()


def test_asvs_10_4_3_a_code_older_than_its_60_seconds_gives_nothing(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, application[0], challenge))["code"]
    grant = Grant.objects.get()
    assert grant.expires - clock.now() <= timedelta(seconds=60)
    Grant.objects.update(expires=clock.now() - timedelta(seconds=1))
    refused = redeem(application[0], application[1], code, verifier)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "password", "username": "ada@acme.test", "password": "x"},
        {"grant_type": "client_credentials"},
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"},  # was a 500
        {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
    ],
)
def test_asvs_10_4_4_only_the_code_grant_is_served(
    application: tuple[Application, str],  # noqa: F811
    grant: dict[str, str],
) -> None:
    refused = Client().post(
        "/oauth/token/",
        {**grant, "client_id": application[0].client_id, "client_secret": application[1]},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "unsupported_grant_type"
    assert "access_token" not in refused.json()
    # Refused before anything was checked: no password was tried (it was, behind the toolkit).
    assert not AuditEvent.objects.filter(event="sign_in.failed").exists()


@pytest.mark.parametrize("response_type", ["token", "id_token", "code token", "code id_token"])
def test_asvs_10_6_1_no_implicit_nor_hybrid_response_type(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    response_type: str,
) -> None:
    client = freshly_signed_in(Client(), administrator)
    answer = authorization(client, application[0], response_type=response_type, nonce="n")
    location = answer.get("Location", "")
    assert "access_token=" not in location
    assert "id_token=" not in location
    assert "code=" not in location
    assert not Grant.objects.exists()


def test_asvs_10_4_5_a_reused_refresh_token_revokes_the_whole_family(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    _, first = signed_in_to(application, administrator)
    second = refresh(application, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    reused = refresh(application, first["refresh_token"])
    assert reused.status_code == 400
    assert_tokens_ended(application, second)


def test_asvs_10_4_8_refresh_tokens_end_at_the_sessions_absolute_end_however_often_used(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    from twofold.idp.models import ApplicationSession

    _, tokens = signed_in_to(application, administrator)
    opened = ApplicationSession.objects.get()
    assert opened.session_expires_at - clock.now() <= timedelta(hours=24, minutes=1)
    again = refresh(application, tokens["refresh_token"]).json()  # sliding: a new token ...
    ApplicationSession.objects.update(session_expires_at=clock.now() - timedelta(seconds=1))
    assert refresh(application, again["refresh_token"]).status_code == 400  # ... not past it


def test_asvs_10_4_9_a_member_ends_an_applications_tokens_from_their_sessions_page(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    laptop = browser(administrator.user.email)
    phone = browser(administrator.user.email, SAFARI)
    _, tokens = signed_in_to(application, administrator, phone)
    phones = member_sessions.list_sessions(administrator.user, laptop.session)
    other = next(s.id for s in phones if not s.current)
    with django_capture_on_commit_callbacks(execute=True):
        ended = laptop.post(f"/settings/sessions/{other}/end")
    assert ended.status_code == 302
    assert_tokens_ended(application, tokens)


def test_asvs_10_4_10_a_confidential_client_authenticates_at_the_token_and_revocation_endpoints(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, application[0], challenge))["code"]
    unauthenticated = Client().post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": application[0].client_id,
        },
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"
    tokens = redeem(application[0], application[1], code, verifier).json()
    revoke = {"token": tokens["access_token"], "client_id": application[0].client_id}
    Client().post("/oauth/revoke_token/", revoke)  # without the secret
    assert userinfo(tokens["access_token"]) == 200  # still valid: nobody proved to be the client
    Client().post("/oauth/revoke_token/", {**revoke, "client_secret": application[1]})
    assert userinfo(tokens["access_token"]) == 401


def test_asvs_10_4_11_a_scope_the_application_was_not_given_is_refused(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    Application.objects.update(allowed_scopes="openid")
    client = freshly_signed_in(Client(), administrator)
    answer = authorization(client, application[0], scope="openid email")
    assert "error=invalid_scope" in answer["Location"]
    assert not Grant.objects.exists()


def test_asvs_10_6_2_a_logout_request_alone_signs_nobody_out(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    client, tokens = signed_in_to(application, administrator)
    asked = client.get("/oauth/logout/", {"id_token_hint": tokens["id_token"]})
    assert asked.status_code == 200  # a question, not a sign-out
    assert "_auth_user_id" in client.session
    assert userinfo(tokens["access_token"]) == 200
