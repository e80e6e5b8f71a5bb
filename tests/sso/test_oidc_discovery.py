"""The discovery document's issuer is the configured server URL (OpenID Connect Discovery 1.0 §4.3,
sso/oidc.py ``check_discovery_issuer``), checked before anyone is sent to its endpoints or any
code is redeemed; Microsoft's ``{tenantid}`` template is the one exception.

The forgery: an impostor at the configured address serves the real peer's discovery document (its
``issuer`` the peer's) with the token endpoint and a JWKS of its own, whose extra key signs the
ID tokens: without the check, every ID token it signs is "the issuer's" (tests/peers/forging_proxy).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.test import Client

from tests.peers.forging_proxy import ForgingProxy, forging_proxy, impostor
from tests.peers.harness import OidcProvider, free_port
from tests.sso.conftest import TENANT, allow_tenant, callback_for, client_of, link, start
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.config.sso import OidcClient, SsoSettings, allauth_providers
from twofold.organizations.models import Membership
from twofold.sso.oidc import check_discovery_issuer, issuer_names_server

pytestmark = pytest.mark.django_db

EMAIL = "bob@acme.test"
SUB = "idp-sub-bob"
REFUSED = "Your identity provider's answer could not be accepted, so nobody was signed in."


@pytest.fixture(scope="module")
def google_impostor(google: OidcProvider) -> Iterator[ForgingProxy]:
    with impostor(google) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def microsoft_proxy() -> Iterator[ForgingProxy]:
    with forging_proxy(
        redirect_uri=callback_for("microsoft"),
        client_id="twofold-microsoft",
        issuer_path=f"/{TENANT}/v2.0",
        tid=TENANT,
    ) as proxy:
        yield proxy


def configure(settings: Any, **clients: OidcClient) -> None:
    """Twofold offers these identity providers (``google=…``, ``microsoft=…``), and no other."""
    configured = SsoSettings(google=clients.get("google"), microsoft=clients.get("microsoft"))
    settings.SOCIALACCOUNT_PROVIDERS = allauth_providers(configured)


@pytest.fixture
def google_at_the_impostor(
    settings: Any, google: OidcProvider, google_impostor: ForgingProxy
) -> ForgingProxy:
    """Twofold's Google server URL is the impostor's address; every ID token it hands over is
    the peer's, re-signed unchanged with the impostor's own published key."""
    google_impostor.reset()
    google_impostor.forge = lambda token: google_impostor.sign(
        jwt.decode(token, options={"verify_signature": False})
    )
    genuine = client_of("google", "Google", google)
    configure(settings, google=replace(genuine, server_url=google_impostor.url))
    return google_impostor


@pytest.fixture
def bob(member: Membership) -> Membership:
    link(member, "google", SUB)
    return member


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def assert_refused_page(client: Client, answer: Any) -> None:
    assert answer.status_code == 401, answer.content[:500]
    assert REFUSED in answer.content.decode()
    assert signed_in_user_id(client) is None
    [event] = AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED)
    assert event.detail["provider"] == "google"
    assert "discovery document names another issuer" in event.detail["cause"]


# --- The forgery, refused -------------------------------------------------------------------------


def test_oidc_discovery_4_3_a_document_naming_another_issuer_sends_nobody_to_its_endpoints(
    google_at_the_impostor: ForgingProxy, bob: Membership
) -> None:
    client = Client()

    answer = client.post("/accounts/oidc/google/login/?process=login")

    assert_refused_page(client, answer)
    assert google_at_the_impostor.token_requests == []


def test_oidc_discovery_4_3_a_forged_flow_is_refused_at_the_callback_before_the_code_is_redeemed(
    google: OidcProvider, google_at_the_impostor: ForgingProxy, bob: Membership
) -> None:
    """The document looked like the server URL's when the sign-in began, and names the real
    peer's issuer when the callback comes: the code goes nowhere, nobody is signed in. (Without
    the check, the impostor's re-signed ID token signed Bob in.)"""
    own_issuer = google_at_the_impostor.url
    google_at_the_impostor.rewrite = lambda config: {**config, "issuer": own_issuer}
    client = Client()
    authorization = start(client, "google")
    google_at_the_impostor.rewrite = None
    callback = google.sign_in(authorization, email=EMAIL, sub=SUB)

    answer = client.get(callback)

    assert_refused_page(client, answer)
    assert google_at_the_impostor.token_requests == []


def test_oidc_discovery_4_3_refusal_in_the_api_returns_the_browser_to_the_app_with_an_error(
    google_at_the_impostor: ForgingProxy, bob: Membership
) -> None:
    client = Client()

    answer = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {"provider": "google", "process": "login", "callback_url": "/app/callback"},
    )

    assert answer.status_code == 302
    assert urlsplit(answer["Location"]).path == "/app/callback"
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["unknown"]
    assert signed_in_user_id(client) is None


def test_an_unreachable_discovery_document_is_a_refusal_page_not_a_server_error(
    settings: Any, google: OidcProvider, bob: Membership
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    configure(settings, google=replace(client_of("google", "Google", google), server_url=nobody))
    client = Client()

    answer = client.post("/accounts/oidc/google/login/?process=login")

    assert answer.status_code == 401
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED).count() == 1


# --- Microsoft's {tenantid} template, the one exception -------------------------------------------


def test_oidc_discovery_4_3_microsofts_tenant_template_for_the_configured_url_signs_in(
    settings: Any, microsoft_proxy: ForgingProxy, member: Membership
) -> None:
    """Entra's multi-tenant discovery names ``…/{tenantid}/v2.0`` for ``…/organizations/v2.0``."""
    microsoft = microsoft_proxy.peer
    assert microsoft is not None
    microsoft_proxy.reset()
    templated = microsoft.issuer.replace(TENANT, "{tenantid}")
    microsoft_proxy.rewrite = lambda config: {**config, "issuer": templated}
    configure(settings, microsoft=client_of("microsoft", "Microsoft", microsoft))
    link(member, "microsoft", "entra-oid-bob")
    allow_tenant(member)
    client = Client()
    callback = microsoft.sign_in(start(client, "microsoft"), email=EMAIL, sub="entra-oid-bob")

    answer = client.get(callback)

    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(member.user.pk)


SERVER = "https://login.microsoftonline.com/organizations/v2.0"


@pytest.mark.parametrize(
    ("issuer", "server_url"),
    [
        (SERVER, SERVER),
        ("https://login.microsoftonline.com/{tenantid}/v2.0", SERVER),
        ("https://accounts.google.com", "https://accounts.google.com"),
        (
            "https://accounts.google.com",
            "https://accounts.google.com/.well-known/openid-configuration",
        ),
    ],
)
def test_oidc_discovery_4_3_issuer_of_the_server_url_is_accepted(
    issuer: str, server_url: str
) -> None:
    check_discovery_issuer({"issuer": issuer}, server_url)


@pytest.mark.parametrize(
    ("issuer", "server_url"),
    [
        pytest.param("https://accounts.google.com", SERVER, id="another-issuer"),
        pytest.param("https://accounts.google.com/", "https://accounts.google.com", id="slash"),
        pytest.param("https://evil.test/{tenantid}/v2.0", SERVER, id="template-of-another-host"),
        pytest.param("https://{tenantid}/organizations/v2.0", SERVER, id="template-for-the-host"),
        pytest.param("https://login.microsoftonline.com/{tenantid}", SERVER, id="shorter"),
        pytest.param(
            "https://login.microsoftonline.com/{tenantid}/{tenantid}",
            SERVER,
            id="two-templates",
        ),
        pytest.param(
            "https://login.microsoftonline.com/x{tenantid}/v2.0", SERVER, id="part-of-a-segment"
        ),
        pytest.param(
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "https://login.microsoftonline.com//v2.0",
            id="template-for-nothing",
        ),
        pytest.param(None, SERVER, id="no-issuer"),
        pytest.param(["https://accounts.google.com"], SERVER, id="not-a-string"),
    ],
)
def test_oidc_discovery_4_3_issuer_other_than_the_server_url_is_refused(
    issuer: Any, server_url: str
) -> None:
    with pytest.raises(OAuth2Error):
        check_discovery_issuer({"issuer": issuer}, server_url)
    assert not isinstance(issuer, str) or not issuer_names_server(issuer, server_url)


def test_the_check_reads_the_document_as_fetched(google: OidcProvider) -> None:
    """The peer's own document names its own address: the control for the forgeries above."""
    check_discovery_issuer(json.loads(json.dumps(google.discovery())), google.issuer)
