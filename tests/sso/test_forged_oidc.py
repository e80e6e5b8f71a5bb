"""Forged OpenID Connect responses, refused end to end through our callback (issue 5).

Cases are named after the OpenID conformance suite's RP test modules (``oidcc-client-test-*``).
The person signs in at the real peer; a :class:`ForgingProxy` between Twofold and the peer's
token endpoint swaps the ID token. Each forgery is refused with a page (never a 500), audited,
and signs nobody in, while the same login with the token re-signed unchanged goes through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from tests.peers.forging_proxy import Forge, ForgingProxy, forging_proxy
from tests.peers.harness import OidcProvider
from tests.sso.conftest import TENANT, callback_for, client_of, link, start
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.config.sso import SsoSettings, allauth_providers
from twofold.organizations.models import Membership
from twofold.sso.oidc import LEEWAY, check_issuer_parameter

pytestmark = [pytest.mark.usefixtures("sso_through_proxies"), pytest.mark.django_db]

EMAIL = "bob@acme.test"
SUB = "idp-sub-bob"
PAGES = {  # the human message of each refusal page
    401: "Your identity provider's answer could not be accepted, so nobody was signed in.",
    403: "Sign-in refused",
}


@pytest.fixture(scope="module")
def google_proxy() -> Iterator[ForgingProxy]:
    """Google, with the man in the middle at its issuer's own address."""
    with forging_proxy(redirect_uri=callback_for("google")) as proxy:
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


@pytest.fixture(scope="module")
def google(google_proxy: ForgingProxy) -> OidcProvider:
    assert google_proxy.peer is not None
    return google_proxy.peer


@pytest.fixture(scope="module")
def microsoft(microsoft_proxy: ForgingProxy) -> OidcProvider:
    assert microsoft_proxy.peer is not None
    return microsoft_proxy.peer


@pytest.fixture
def sso_through_proxies(
    settings: Any,
    google: OidcProvider,
    microsoft: OidcProvider,
    google_proxy: ForgingProxy,
    microsoft_proxy: ForgingProxy,
) -> None:
    """Twofold discovers Google and Microsoft at their issuers, where the proxies are; nothing
    forged yet."""
    google_proxy.reset()
    microsoft_proxy.reset()
    configured = SsoSettings(
        google=client_of("google", "Google", google),
        microsoft=client_of("microsoft", "Microsoft", microsoft),
    )
    settings.SOCIALACCOUNT_PROVIDERS = allauth_providers(configured)


@pytest.fixture
def bob(member: Membership) -> Membership:
    """A member linked at Google and Microsoft: a forgery accepted at Google would sign him in.

    (His account allows no Entra tenant: past our checks a Microsoft sign-in meets that refusal,
    so the Microsoft cases assert that no code was redeemed at all.)"""
    link(member, "google", SUB)
    link(member, "microsoft", SUB)
    return member


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def assert_refused(
    client: Client, answer: Any, *, status: int, reason: str, provider: str = "google"
) -> None:
    """A page with a human message, one audit event, and nobody signed in."""
    assert answer.status_code == status, answer.content[:500]
    assert PAGES[status] in answer.content.decode()
    assert signed_in_user_id(client) is None
    [event] = AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED)
    assert (event.detail["provider"], event.detail["reason"]) == (provider, reason)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str | None) -> str:
    """``url`` with its query parameters changed (None removes one)."""
    query = {k: v for k, v in {**query_of(url), **changes}.items() if v is not None}
    return urlsplit(url)._replace(query=urlencode(query)).geturl()


# --- Forging ID tokens -------------------------------------------------------------------------

Case = Callable[[ForgingProxy], Forge]  # called before the sign-in, in the test's thread


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_json(document: dict[str, Any]) -> str:
    return b64(json.dumps(document).encode())


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def peer_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def resigned(**changes: Any) -> Case:
    """The genuine claims with ``changes`` (None removes a claim), signed with a published key."""

    def case(proxy: ForgingProxy) -> Forge:
        def forge(token: str) -> str:
            claims = {**claims_of(token), **changes}
            return proxy.sign({k: v for k, v in claims.items() if v is not None})

        return forge

    return case


def expired(proxy: ForgingProxy) -> Forge:
    now = int(time.time())
    return resigned(iat=now - 3600, exp=now - LEEWAY - 60)(proxy)


def issued_in_the_future(proxy: ForgingProxy) -> Forge:
    now = int(time.time())
    return resigned(iat=now + LEEWAY + 600, exp=now + 3600)(proxy)


def nonce_of_another_login(proxy: ForgingProxy) -> Forge:
    another = query_of(start(Client(), "google"))["nonce"]
    return resigned(nonce=another)(proxy)


def signed_by_an_unpublished_key(proxy: ForgingProxy) -> Forge:
    """The genuine claims, signed by the attacker's key under the issuer's ``kid``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return lambda token: jwt.encode(
        claims_of(token), key, algorithm="RS256", headers={"kid": peer_kid(token)}
    )


def subject_edited_after_signing(proxy: ForgingProxy) -> Forge:
    """The issuer's genuine signature over claims naming someone else."""

    def forge(token: str) -> str:
        header, _, signature = token.split(".")
        claims = {**claims_of(token), "sub": "idp-sub-ada"}
        return f"{header}.{b64_json(claims)}.{signature}"

    return forge


def unsigned(proxy: ForgingProxy) -> Forge:
    return lambda token: jwt.encode(
        claims_of(token), "", algorithm="none", headers={"kid": peer_kid(token)}
    )


def hs256_keyed_with_the_public_key(encoding: str) -> Case:
    """Algorithm confusion: an HMAC whose secret is the issuer's RSA public key (PEM or JWK)."""

    def case(proxy: ForgingProxy) -> Forge:
        [jwk] = proxy.genuine_jwks()["keys"]
        public = jwt.PyJWK(jwk).key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        secret = public if encoding == "pem" else json.dumps(jwk).encode()

        def forge(token: str) -> str:
            header = {"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}
            signing_input = f"{b64_json(header)}.{b64_json(claims_of(token))}"
            signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{b64(signature)}"

        return forge

    return case


def without_id_token(proxy: ForgingProxy) -> Forge:
    """allauth then takes the person from UserInfo: no ID token, no nonce, no sign-in."""
    return lambda token: None


# (forgery, page status, audited reason); ids are oidcc-client-test-<id> where the suite has one.
FORGED = [
    pytest.param(signed_by_an_unpublished_key, 401, "unknown", id="invalid-sig-rs256"),
    pytest.param(subject_edited_after_signing, 401, "unknown", id="invalid-sig-rs256-edited-sub"),
    pytest.param(unsigned, 401, "unknown", id="idtoken-sig-none"),
    pytest.param(hs256_keyed_with_the_public_key("pem"), 401, "unknown", id="hs256-public-pem"),
    pytest.param(hs256_keyed_with_the_public_key("jwk"), 401, "unknown", id="hs256-public-jwk"),
    pytest.param(resigned(iss="http://127.0.0.1:9/evil"), 401, "unknown", id="invalid-iss"),
    pytest.param(resigned(aud="another-client"), 401, "unknown", id="invalid-aud"),
    pytest.param(resigned(aud=None), 401, "unknown", id="missing-aud"),
    pytest.param(nonce_of_another_login, 403, "nonce", id="nonce-invalid"),
    pytest.param(resigned(nonce=None), 403, "nonce", id="nonce-missing"),
    pytest.param(expired, 401, "unknown", id="expired"),
    pytest.param(issued_in_the_future, 401, "unknown", id="iat-in-the-future"),
    pytest.param(resigned(sub=None), 401, "unknown", id="missing-sub"),
    pytest.param(resigned(iat=None), 401, "unknown", id="missing-iat"),
    pytest.param(resigned(exp=None), 401, "unknown", id="missing-exp"),
    pytest.param(without_id_token, 403, "nonce", id="id-token-missing"),
]


def test_id_token_resigned_unchanged_with_a_published_key_signs_in(
    google: OidcProvider, google_proxy: ForgingProxy, bob: Membership
) -> None:
    """oidcc-client-test-idtoken-sig-rs256: the control for every forgery below."""
    google_proxy.forge = resigned()(google_proxy)
    client = Client()

    answer = client.get(google.sign_in(start(client, "google"), email=EMAIL, sub=SUB))

    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert signed_in_user_id(client) == str(bob.user.pk)
    assert len(google_proxy.token_requests) == 1


@pytest.mark.parametrize(("case", "status", "reason"), FORGED)
def test_forged_id_token_is_refused(
    google: OidcProvider,
    google_proxy: ForgingProxy,
    bob: Membership,
    administrator: Membership,
    case: Case,
    status: int,
    reason: str,
) -> None:
    """Refused although the code, the state and the PKCE verifier are genuine."""
    link(administrator, "google", "idp-sub-ada")
    google_proxy.forge = case(google_proxy)
    client = Client()

    answer = client.get(google.sign_in(start(client, "google"), email=EMAIL, sub=SUB))

    assert_refused(client, answer, status=status, reason=reason)
    assert len(google_proxy.token_requests) == 1
    if reason == "unknown":  # refused inside allauth: the audit log names what failed
        [event] = AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED)
        assert "ID token" in event.detail["cause"] or "nonce" in event.detail["cause"]


def api_sign_in(client: Client, google: OidcProvider) -> str:
    """Start a sign-in through the JSON API (browser client); the callback the peer sends back."""
    redirect = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {"provider": "google", "process": "login", "callback_url": "/app/callback"},
    )
    assert redirect.status_code == 302
    return google.sign_in(redirect["Location"], email=EMAIL, sub=SUB)


def test_api_sign_in_through_the_proxy_reaches_the_app_signed_in(
    google: OidcProvider, bob: Membership
) -> None:
    """The control for the API refusals below."""
    client = Client()

    answer = client.get(api_sign_in(client, google))

    assert answer["Location"] == "/app/callback"
    assert signed_in_user_id(client) == str(bob.user.pk)


def as_sent(callback: str) -> str:
    return callback


def without_iss(callback: str) -> str:
    return with_query(callback, iss=None)


@pytest.mark.parametrize(
    ("case", "tamper", "error"),
    [
        pytest.param(unsigned, as_sent, "unknown", id="idtoken-sig-none"),
        pytest.param(nonce_of_another_login, as_sent, "denied", id="nonce-invalid"),
        pytest.param(None, without_iss, "unknown", id="iss-missing"),
    ],
)
def test_refusal_in_the_api_redirects_to_the_app_with_an_error(
    google: OidcProvider,
    google_proxy: ForgingProxy,
    bob: Membership,
    case: Case | None,
    tamper: Callable[[str], str],
    error: str,
) -> None:
    google_proxy.forge = case(google_proxy) if case is not None else None
    client = Client()
    callback = api_sign_in(client, google)

    answer = client.get(tamper(callback))

    assert answer.status_code == 302
    assert urlsplit(answer["Location"]).path == "/app/callback"
    assert query_of(answer["Location"])["error"] == error
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED).count() == 1


# --- State, code and issuer of the authorization response --------------------------------------


def test_a_callback_is_accepted_only_in_the_session_that_started_the_login(
    google: OidcProvider, google_proxy: ForgingProxy, bob: Membership
) -> None:
    """Login CSRF: a callback replayed into another browser finds no state there."""
    victim, attacker = Client(), Client()
    start(victim, "google")
    callback = google.sign_in(start(attacker, "google"), email=EMAIL, sub=SUB)

    answer = victim.get(callback)

    assert_refused(victim, answer, status=401, reason="unknown")
    assert google_proxy.token_requests == []  # the code was never redeemed
    assert attacker.get(callback)["Location"] == "/"  # yet the callback was good where it began


def test_a_callback_used_twice_is_refused_the_second_time(
    google: OidcProvider, google_proxy: ForgingProxy, bob: Membership
) -> None:
    client = Client()
    callback = google.sign_in(start(client, "google"), email=EMAIL, sub=SUB)
    assert client.get(callback)["Location"] == "/"

    answer = client.get(callback)

    assert answer.status_code == 401
    assert PAGES[401] in answer.content.decode()
    assert AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED).count() == 1
    assert len(google_proxy.token_requests) == 1


def test_a_code_replayed_into_another_login_is_refused_by_the_provider(
    google: OidcProvider, google_proxy: ForgingProxy, bob: Membership
) -> None:
    """The code is used once (and bound to the first login's PKCE verifier)."""
    victim, attacker = Client(), Client()
    callback = google.sign_in(start(victim, "google"), email=EMAIL, sub=SUB)
    assert victim.get(callback)["Location"] == "/"
    attackers_state = query_of(start(attacker, "google"))["state"]

    answer = attacker.get(with_query(callback, state=attackers_state))

    assert_refused(attacker, answer, status=401, reason="unknown")
    assert [a.get("error") for a in google_proxy.token_answers] == [None, "invalid_grant"]


def test_issuer_parameter_may_name_any_tenant_of_microsofts_template_and_nothing_else() -> None:
    config = {"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}

    check_issuer_parameter("https://login.microsoftonline.com/t-1/v2.0", config)
    for other in ("https://accounts.google.com", "https://login.microsoftonline.com/t/1/v2.0"):
        with pytest.raises(OAuth2Error):
            check_issuer_parameter(other, config)


# --- Mix-up between Google and Microsoft (RFC 9207) --------------------------------------------

MixUp = Callable[[Client, OidcProvider, OidcProvider], str]  # the URL delivered to Twofold


def microsoft_state_returned_through_google(
    client: Client, google: OidcProvider, microsoft: OidcProvider
) -> str:
    """A rogue "Microsoft" sends the person on to Google with the request Twofold made to it."""
    request = query_of(start(client, "microsoft"))
    request.update(client_id=google.client_id, redirect_uri=google.redirect_uri)
    authorization = google.discovery()["authorization_endpoint"] + "?" + urlencode(request)
    return google.sign_in(authorization, email=EMAIL, sub=SUB)


def google_callback_at_the_microsoft_callback(
    client: Client, google: OidcProvider, microsoft: OidcProvider
) -> str:
    start(client, "microsoft")
    answer = google.sign_in(start(client, "google"), email=EMAIL, sub=SUB)
    return with_query(callback_for("microsoft"), **query_of(answer))


def google_code_with_microsoft_state(
    client: Client, google: OidcProvider, microsoft: OidcProvider
) -> str:
    state = query_of(start(client, "microsoft"))["state"]
    answer = query_of(google.sign_in(start(client, "google"), email=EMAIL, sub=SUB))
    return with_query(
        callback_for("microsoft"), code=answer["code"], state=state, iss=answer["iss"]
    )


def iss_naming_google_at_microsoft(
    client: Client, google: OidcProvider, microsoft: OidcProvider
) -> str:
    answer = microsoft.sign_in(start(client, "microsoft"), email=EMAIL, sub=SUB)
    return with_query(answer, iss=google.issuer)


def iss_removed_at_microsoft(client: Client, google: OidcProvider, microsoft: OidcProvider) -> str:
    """The provider advertises ``authorization_response_iss_parameter_supported``: iss is due."""
    answer = microsoft.sign_in(start(client, "microsoft"), email=EMAIL, sub=SUB)
    return with_query(answer, iss=None)


MIX_UPS = [  # (how the response is mixed up, the callback it reaches)
    pytest.param(microsoft_state_returned_through_google, "google", id="ms-state-at-google"),
    pytest.param(google_callback_at_the_microsoft_callback, "microsoft", id="google-answer-at-ms"),
    pytest.param(google_code_with_microsoft_state, "microsoft", id="google-code-and-iss-at-ms"),
    pytest.param(iss_naming_google_at_microsoft, "microsoft", id="iss-of-google-at-ms"),
    pytest.param(iss_removed_at_microsoft, "microsoft", id="iss-missing"),
]


@pytest.mark.parametrize(("mix_up", "callback_provider"), MIX_UPS)
def test_mix_up_is_refused_before_any_code_is_redeemed(
    google: OidcProvider,
    microsoft: OidcProvider,
    google_proxy: ForgingProxy,
    microsoft_proxy: ForgingProxy,
    bob: Membership,
    mix_up: MixUp,
    callback_provider: str,
) -> None:
    """RFC 9207 §2.4: a response from another issuer is refused, and its code sent nowhere."""
    client = Client()
    delivered = mix_up(client, google, microsoft)

    answer = client.get(delivered)

    assert_refused(client, answer, status=401, reason="unknown", provider=callback_provider)
    assert google_proxy.token_requests == []
    assert microsoft_proxy.token_requests == []
