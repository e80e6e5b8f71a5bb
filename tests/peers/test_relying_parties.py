"""Twofold's OpenID Connect provider driven by real relying-party libraries against a served
Twofold (``twofold migrate`` + ``twofold serve``): panva's certified ``openid-client`` (a Node web
server, tests/peers/rp/) and Authlib's ``OAuth2Session``, with a ``requests`` session playing the
browser: it follows the redirects relying party → Twofold → relying party, and signs the member in
(password, then the texted code, through the headless API) where Twofold asks it to.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.base_client.errors import OAuthError

from tests.peers.harness import free_port, sqlite_pass_only
from tests.peers.relying_party import (
    AUTHLIB_CALLBACK,
    AuthlibClient,
    RelyingParty,
    openid_client_rp,
    redirect_uris,
    require_openid_client,
)
from tests.peers.served_twofold import Browser, Member, Twofold, served_account

pytestmark = sqlite_pass_only

AAL2 = "urn:twofold:aal2"
ACCOUNT_CLAIM = "urn:twofold:account"


@pytest.fixture(scope="module")
def twofold(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twofold]:
    """A served Twofold with one account, its administrator signed in."""
    # Each test's member is texted two or three codes: more than an address may ask per day.
    with served_account(tmp_path_factory.mktemp("twofold-idp"), SMS_LIMIT_PER_IP="1000") as found:
        yield found


@pytest.fixture
def member(twofold: Twofold) -> Member:
    return twofold.new_member()


@pytest.fixture
def browser(twofold: Twofold, member: Member) -> Iterator[Browser]:
    """The member's browser, not signed in yet."""
    with Browser(twofold, member) as opened:
        yield opened


# --- openid-client --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openid_client_installed() -> None:
    """Asked for before ``twofold``: without Node, skip before serving Twofold."""
    require_openid_client()


@pytest.fixture(scope="module")
def rp(openid_client_installed: None, twofold: Twofold) -> Iterator[RelyingParty]:
    """openid-client as a confidential application of the account (client_secret_basic)."""
    port = free_port()
    callback, logged_out = redirect_uris(port)
    client_id, secret = twofold.register(
        "Wiki (openid-client)", callback, "--post-logout-redirect-uri", logged_out
    )
    with openid_client_rp(
        port=port, issuer=twofold.issuer, client_id=client_id, client_secret=secret
    ) as started:
        yield started


def test_oidc_core_3_1_3_7_openid_client_validates_the_id_token_of_an_sms_sign_in_as_aal2(
    rp: RelyingParty, browser: Browser, twofold: Twofold, member: Member
) -> None:
    started = time.time()

    journey = browser.follow(f"{rp.url}/login")

    assert journey.asked == ["sign-in"]
    authorization = journey.first(twofold.discovery()["authorization_endpoint"])
    asked = parse_qs(urlsplit(authorization).query)
    assert asked["code_challenge_method"] == ["S256"]
    assert {"state", "nonce", "code_challenge"} <= set(asked)
    callback = parse_qs(urlsplit(journey.first(rp.redirect_uri)).query)
    assert callback["iss"] == [twofold.issuer]  # RFC 9207; openid-client compared it too
    claims = journey.answer()["claims"]
    assert claims["iss"] == twofold.issuer
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == asked["nonce"][0]
    assert claims["amr"] == ["pwd", "sms"]
    assert claims["acr"] == AAL2
    assert started - 2 <= claims["auth_time"] <= time.time() + 1
    assert claims["email"] == member.email
    assert claims[ACCOUNT_CLAIM]["id"] == twofold.account_id


@pytest.mark.parametrize(
    ("asking", "question"),
    [
        ("acr=urn:twofold:aal2&max_age=1", "second factor"),
        ("acr=urn:twofold:aal2&prompt=login", "second factor"),
        ("max_age=1", "password"),
    ],
    ids=["aal2-after-max-age", "aal2-with-prompt-login", "max-age"],
)
def test_oidc_core_3_1_2_1_step_up_is_asked_before_the_application_gets_a_code(
    rp: RelyingParty, browser: Browser, asking: str, question: str
) -> None:
    signed_in_at = browser.follow(f"{rp.url}/login").answer()["claims"]["auth_time"]
    time.sleep(1.5)  # the sign-in is now older than max_age=1, and than its auth_time second

    journey = browser.follow(f"{rp.url}/login?{asking}")

    assert journey.asked == [question]
    before = journey.visited[: journey.asked_at[0]]
    assert not any(url.startswith(rp.redirect_uri) for url in before)  # no code before it
    claims = journey.answer()["claims"]
    assert claims["auth_time"] > signed_in_at
    assert claims["acr"] == AAL2
    assert "sms" in claims["amr"]


def test_rfc_6749_10_4_refresh_token_reuse_revokes_the_family(
    rp: RelyingParty, browser: Browser, twofold: Twofold
) -> None:
    first = browser.follow(f"{rp.url}/login").answer()["tokens"]

    rotated = rp.refresh(browser.http)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["tokens"]
    assert second["refresh_token"] != first["refresh_token"]
    assert twofold.userinfo(second["access_token"]) == 200

    reused = rp.refresh(browser.http, first["refresh_token"])
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    # The reuse revoked the whole family: the rotated token and its access token end too.
    after = rp.refresh(browser.http, second["refresh_token"])
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    assert twofold.userinfo(second["access_token"]) == 401


def test_oidc_core_12_2_a_refreshed_id_token_keeps_the_sign_ins_assurance(
    rp: RelyingParty, browser: Browser
) -> None:
    original = browser.follow(f"{rp.url}/login").answer()["claims"]

    refreshed = rp.refresh(browser.http)

    assert refreshed.status_code == 200, refreshed.text
    claims = refreshed.json()["claims"]
    assert claims is not None, "no ID token in the refresh response"
    for claim in ("iss", "sub", "aud", "auth_time", "acr", "amr", "sid"):
        assert claims.get(claim) == original[claim], claim


def test_oidc_rp_initiated_logout_1_0_ends_the_twofold_session_and_returns_to_the_application(
    rp: RelyingParty, browser: Browser, twofold: Twofold
) -> None:
    tokens = browser.follow(f"{rp.url}/login").answer()["tokens"]
    assert browser.signed_in_to_twofold

    logout = browser.follow(f"{rp.url}/logout")

    assert logout.asked == ["logout"]  # the toolkit asks the member to confirm (a SHOULD)
    end_session = parse_qs(
        urlsplit(logout.first(twofold.discovery()["end_session_endpoint"])).query
    )
    assert end_session["id_token_hint"] == [tokens["id_token"]]
    assert logout.visited[-1].startswith(f"{rp.post_logout_redirect_uri}?")
    assert logout.answer() == {"logged_out": True, "state": end_session["state"][0]}
    assert not browser.signed_in_to_twofold
    refused = rp.refresh(browser.http)  # the logout ended the member's tokens too
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")


def test_oidc_rp_initiated_logout_1_0_refuses_an_unregistered_post_logout_redirect_uri(
    rp: RelyingParty, browser: Browser, twofold: Twofold
) -> None:
    browser.follow(f"{rp.url}/login").answer()
    elsewhere = "http://127.0.0.1:9/elsewhere"

    logout = browser.follow(f"{rp.url}/logout?post_logout_redirect_uri={elsewhere}")

    assert not any(url.startswith(elsewhere) for url in logout.visited)
    assert logout.visited[-1].startswith(twofold.discovery()["end_session_endpoint"])
    assert logout.response.status_code == 400
    assert browser.signed_in_to_twofold  # nothing ended


# --- Authlib --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authlib_confidential(twofold: Twofold) -> AuthlibClient:
    return AuthlibClient(*twofold.register("Reports (Authlib)", AUTHLIB_CALLBACK))


@pytest.fixture(scope="module")
def authlib_public(twofold: Twofold) -> AuthlibClient:
    client_id, secret = twofold.register("Desk (Authlib, public)", AUTHLIB_CALLBACK, "--public")
    assert secret is None
    return AuthlibClient(client_id, None)


def test_oidc_core_3_1_3_7_authlib_with_pkce_s256_gets_an_id_token_valid_against_the_jwks(
    authlib_confidential: AuthlibClient, browser: Browser, member: Member
) -> None:
    _, claims = authlib_confidential.sign_in(browser)

    assert claims["amr"] == ["pwd", "sms"]
    assert claims["acr"] == AAL2
    assert claims["email"] == member.email


def test_rfc_6749_6_authlib_refresh_rotates_the_refresh_token_and_the_old_one_is_refused(
    authlib_confidential: AuthlibClient, browser: Browser, twofold: Twofold
) -> None:
    session, original = authlib_confidential.sign_in(browser)
    first = dict(session.token)
    token_endpoint = twofold.discovery()["token_endpoint"]

    rotated = session.refresh_token(token_endpoint)

    assert rotated["refresh_token"] != first["refresh_token"]
    assert twofold.userinfo(rotated["access_token"]) == 200
    refreshed = authlib_confidential.id_token_claims(twofold, rotated, nonce=None)
    assert refreshed["sub"] == original["sub"]
    with pytest.raises(OAuthError) as refused:
        authlib_confidential.session().refresh_token(
            token_endpoint, refresh_token=first["refresh_token"]
        )
    assert refused.value.error == "invalid_grant"


def test_rfc_7636_a_public_client_signs_in_and_refreshes_with_pkce_and_no_secret(
    authlib_public: AuthlibClient, browser: Browser, twofold: Twofold
) -> None:
    session, claims = authlib_public.sign_in(browser)
    assert (claims["aud"], claims["acr"]) == (authlib_public.client_id, AAL2)

    rotated = session.refresh_token(twofold.discovery()["token_endpoint"])

    assert twofold.userinfo(rotated["access_token"]) == 200


def test_rfc_7636_4_6_a_public_client_without_the_code_verifier_gets_no_token(
    authlib_public: AuthlibClient, browser: Browser, twofold: Twofold
) -> None:
    started = authlib_public.authorize(browser)

    with pytest.raises(OAuthError) as refused:
        authlib_public.session().fetch_token(
            twofold.discovery()["token_endpoint"],
            authorization_response=started.callback,
            state=started.state,
        )

    assert refused.value.error == "invalid_request"
