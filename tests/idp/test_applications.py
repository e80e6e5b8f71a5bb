"""Registering applications (idp/applications.py): exact redirect URIs (RFC 9700 2.1, RFC 6749
3.1.2), https in production except loopback (RFC 8252 7.3), the secret shown once and stored
hashed, the scopes an application may ask for, audited."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from tests.conftest import freshly_signed_in
from tests.idp.test_code_flow import REDIRECT, authorize, callback_parameters, pkce, redeem
from tests.test_cli import twofold
from twofold.audit.models import AuditEvent
from twofold.errors import FlowError
from twofold.idp import applications
from twofold.idp.models import Application
from twofold.organizations.models import Membership


def register(administrator: Membership, **changes: Any) -> applications.Registered:
    given: dict[str, Any] = {
        "organization": administrator.organization,
        "actor": administrator.user,
        "name": "Acme Wiki",
        "redirect_uris": [REDIRECT],
        **changes,
    }
    return applications.register(**given)


def test_the_secret_is_shown_once_and_stored_hashed(administrator: Membership) -> None:
    done = register(administrator)
    assert done.client_secret
    stored = Application.objects.get(pk=done.application.pk).client_secret
    assert done.client_secret not in stored
    assert stored.startswith("twofold_secret_sha256$")  # salted: 256 random bits need no slow hash


def test_passwords_keep_argon2id_beside_the_fast_secret_hash(administrator: Membership) -> None:
    from django.contrib.auth.hashers import make_password

    assert make_password("a member's password").startswith("argon2")
    administrator.user.refresh_from_db()
    assert administrator.user.password.startswith("argon2")


def test_the_registered_secret_redeems_a_code(administrator: Membership) -> None:
    done = register(administrator)
    client = freshly_signed_in(Client(), administrator)
    verifier, challenge = pkce()
    code = callback_parameters(authorize(client, done.application, challenge))["code"]
    assert redeem(done.application, done.client_secret or "", code, verifier).status_code == 200
    assert redeem(done.application, "not-the-secret", code, verifier).status_code == 401


def test_a_registration_is_audited_in_the_account(administrator: Membership) -> None:
    done = register(administrator)
    event = AuditEvent.objects.get(event="application.registered")
    assert event.organization_id == administrator.organization_id
    assert event.detail["client_id"] == done.application.client_id


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("/callback", "absolute"),
        ("https://app.example/cb#frag", "fragment"),
        ("https://*.app.example/cb", "wildcards"),
        ("ftp://app.example/cb", "absolute"),
    ],
)
def test_rfc_9700_2_1_a_redirect_uri_must_be_exact_and_absolute(
    administrator: Membership, uri: str, problem: str
) -> None:
    with pytest.raises(FlowError) as refused:
        register(administrator, redirect_uris=[uri])
    assert refused.value.code == "redirect_uri_invalid"
    assert problem in refused.value.message
    assert not Application.objects.exists()


def test_rfc_8252_production_takes_http_only_on_loopback(
    administrator: Membership, settings: Any
) -> None:
    settings.TWOFOLD = replace(settings.TWOFOLD, mode="production")
    with pytest.raises(FlowError, match="must use https"):
        register(administrator, redirect_uris=["http://app.example/cb"])
    for loopback in ("http://127.0.0.1:8765/cb", "http://[::1]/cb", "http://localhost:3000/cb"):
        register(administrator, redirect_uris=[loopback])


def test_an_application_needs_a_name_and_a_redirect_uri(administrator: Membership) -> None:
    with pytest.raises(FlowError) as no_name:
        register(administrator, name="  ")
    assert no_name.value.param == "name"
    with pytest.raises(FlowError) as no_uri:
        register(administrator, redirect_uris=[])
    assert (no_uri.value.code, no_uri.value.param) == ("required", "redirect_uris")


def test_scopes_are_those_twofold_knows_and_include_openid(administrator: Membership) -> None:
    with pytest.raises(FlowError, match="Unknown scope 'admin'"):
        register(administrator, scopes=["openid", "admin"])
    with pytest.raises(FlowError, match="needs the openid scope"):
        register(administrator, scopes=["email"])


def test_an_application_gets_only_the_scopes_it_was_registered_with(
    administrator: Membership,
) -> None:
    done = register(administrator, scopes=["openid"])
    client = freshly_signed_in(Client(), administrator)
    parameters = callback_parameters(authorize(client, done.application, pkce()[1]))
    assert parameters["error"] == "invalid_scope"
    assert "code" not in parameters


def test_a_public_client_has_no_secret(administrator: Membership) -> None:
    done = register(administrator, confidential=False)
    assert done.client_secret is None
    assert done.application.client_type == Application.CLIENT_PUBLIC


def test_the_operator_registers_an_instance_wide_application(tmp_path: Any) -> None:
    assert twofold("migrate", data_dir=tmp_path).returncode == 0
    result = twofold(
        "create-application",
        "--name",
        "Host product",
        "--redirect-uri",
        "https://host.example/oidc/callback",
        data_dir=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Registered 'Host product' for everyone." in result.stdout
    assert "client_id: " in result.stdout
    assert "client_secret: " in result.stdout


def test_the_command_refuses_a_bad_redirect_uri_in_one_line(tmp_path: Any) -> None:
    assert twofold("migrate", data_dir=tmp_path).returncode == 0
    result = twofold(
        "create-application", "--name", "X", "--redirect-uri", "/cb", data_dir=tmp_path
    )
    assert result.returncode == 1
    assert "must be an absolute https:// address" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_registers_where_logout_tokens_go(
    administrator: Membership, capsys: pytest.CaptureFixture[str]
) -> None:
    from twofold import cli

    assert cli.main([
        "create-application", "--name", "Host product",
        "--redirect-uri", "https://host.example/oidc/callback",
        "--backchannel-logout-uri", "https://host.example/oidc/backchannel-logout",
        "--account", str(administrator.organization_id),
    ]) == 0  # fmt: skip

    client_id = capsys.readouterr().out.split("client_id: ")[1].split()[0]
    found = Application.objects.get(client_id=client_id)
    assert found.backchannel_logout_uri == "https://host.example/oidc/backchannel-logout"
    assert found.organization_id == administrator.organization_id
