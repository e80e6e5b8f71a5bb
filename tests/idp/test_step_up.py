"""Step-up on request (OpenID Connect Core 1.0 3.1.2.1 and 5.5.1.1): ``acr_values`` asking for
aal2, the ``claims`` parameter with an essential ``acr``, ``max_age`` and ``prompt`` make Twofold
ask for what is missing before any code; a member who cannot meet it, or a ``prompt=none``
request, gets the OIDC error and never a code."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.conftest import age_authentication, freshly_signed_in, give_sms_factor
from tests.idp.test_code_flow import (
    application,  # noqa: F401 (fixture)
    authorize,
    callback_parameters,
    id_token_claims,
    pkce,
    redeem,
)
from twofold.idp.models import Application
from twofold.organizations.models import Membership

AAL2 = "urn:twofold:aal2"


def next_of(response: Any, page: str) -> str:
    """The re-authentication page the browser is sent to, and where it comes back to."""
    assert response.status_code == 302, response.content[:300]
    location = urlsplit(response["Location"])
    assert location.path == page
    return parse_qs(location.query)["next"][0]


def confirm_with_sms(client: Client, back: str, sms_outbox: Any) -> Any:
    page = "/accounts/2fa/reauthenticate/?" + f"next={back}&method=sms"
    client.post(page, {"method": "sms", "resend": "1", "next": back})
    return client.post(page, {"method": "sms", "code": sms_outbox.last_code(), "next": back})


def test_oidc_core_acr_values_aal2_asks_a_password_only_session_for_the_second_factor(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    sms_outbox: Any,
) -> None:
    give_sms_factor(administrator)
    app, secret = application
    client = freshly_signed_in(Client(), administrator)  # the password only: aal1
    verifier, challenge = pkce()

    back = next_of(
        authorize(client, app, challenge, acr_values=AAL2), "/accounts/2fa/reauthenticate/"
    )
    assert back.startswith("/oauth/authorize/?")
    assert confirm_with_sms(client, back, sms_outbox).status_code == 302
    parameters = callback_parameters(client.get(back))

    claims = id_token_claims(redeem(app, secret, parameters["code"], verifier).json()["id_token"])
    assert claims["acr"] == AAL2
    assert "sms" in claims["amr"]
    assert time.time() - claims["auth_time"] < 30


def test_oidc_core_5_5_1_1_an_essential_acr_claim_asks_for_the_second_factor_too(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    give_sms_factor(administrator)
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [AAL2]}}})
    response = authorize(client, app, pkce()[1], claims=claims)
    next_of(response, "/accounts/2fa/reauthenticate/")


def test_an_aal2_session_meets_acr_values_aal2_without_a_question(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), administrator, second_factor="sms")
    assert "code" in callback_parameters(authorize(client, app, pkce()[1], acr_values=AAL2))


def test_unmet_authentication_requirements_when_the_member_has_no_second_factor(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    parameters = callback_parameters(authorize(client, app, pkce()[1], acr_values=AAL2))
    assert parameters["error"] == "unmet_authentication_requirements"
    assert parameters["state"] == "s-123"
    assert "code" not in parameters


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"acr_values": AAL2}, "interaction_required"),
        ({"max_age": "60"}, "login_required"),
    ],
)
def test_oidc_core_3_1_2_1_prompt_none_answers_the_error_instead_of_asking(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    extra: dict[str, str],
    error: str,
) -> None:
    give_sms_factor(administrator)
    app, _ = application
    client = age_authentication(freshly_signed_in(Client(), administrator), seconds=600)
    parameters = callback_parameters(authorize(client, app, pkce()[1], prompt="none", **extra))
    assert parameters["error"] == error
    assert "code" not in parameters


def test_oidc_core_3_1_2_1_prompt_none_without_a_session_is_login_required(
    application: tuple[Application, str],  # noqa: F811
) -> None:
    app, _ = application
    parameters = callback_parameters(authorize(Client(), app, pkce()[1], prompt="none"))
    assert parameters["error"] == "login_required"


def test_oidc_core_max_age_asks_an_older_sign_in_for_the_password_again(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    app, _ = application
    client = age_authentication(freshly_signed_in(Client(), administrator), seconds=600)
    back = next_of(authorize(client, app, pkce()[1], max_age="60"), "/accounts/reauthenticate/")
    assert "max_age=60" in back
    fresh = freshly_signed_in(client, administrator)  # as the password page records it
    assert "code" in callback_parameters(fresh.get(back))


def test_oidc_core_prompt_login_asks_again_even_a_fresh_session(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    """allauth's login page forwards a signed-in browser: the password is asked by the
    re-authentication page instead, and only an authentication after the prompt answers it."""
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    back = next_of(authorize(client, app, pkce()[1], prompt="login"), "/accounts/reauthenticate/")
    assert "prompt" not in parse_qs(urlsplit(back).query)

    # Coming back without re-authenticating: asked again, no code.
    next_of(client.get(back), "/accounts/reauthenticate/")

    time.sleep(0.01)
    freshly_signed_in(client, administrator)  # the password, after the prompt
    assert "code" in callback_parameters(client.get(back))


def test_a_malformed_max_age_is_invalid_request(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
) -> None:
    app, _ = application
    client = freshly_signed_in(Client(), administrator)
    parameters = callback_parameters(authorize(client, app, pkce()[1], max_age="soon"))
    assert parameters["error"] == "invalid_request"


def test_an_sso_session_stepped_up_with_twofolds_code_meets_aal2(
    application: tuple[Application, str],  # noqa: F811
    administrator: Membership,
    sms_outbox: Any,
) -> None:
    """An identity provider's sign-in whose MFA Twofold does not trust, then Twofold's own code:
    two factors. (It stayed aal1, so an application asking aal2 asked for a code forever.)"""
    give_sms_factor(administrator)
    app, _ = application
    client = Client()
    client.force_login(administrator.user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "socialaccount", "at": time.time()}]
    session["account_authentication_methods_user"] = str(administrator.user.pk)
    session.save()
    _, challenge = pkce()
    back = next_of(
        authorize(client, app, challenge, acr_values=AAL2), "/accounts/2fa/reauthenticate/"
    )
    assert confirm_with_sms(client, back, sms_outbox).status_code == 302
    parameters = callback_parameters(client.get(back))  # a code, not another question
    assert "code" in parameters
