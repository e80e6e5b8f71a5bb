"""The identity-provider peers behave as the SSO tests rely on (TESTING.md)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import xmlsec
from lxml import etree

from tests.peers.harness import (
    SAML_MFA,
    SAML_MICROSOFT_MFA,
    SAML_PASSWORD,
    OidcProvider,
    PeerDidNotStart,
    SamlIdp,
    local_browser,
    oidc_provider,
    redirect_authn_request,
    require_installed,
    sqlite_pass_only,
)

pytestmark = sqlite_pass_only

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


# --- OpenID Connect: a client's side of the authorization-code flow with PKCE --------------------


def authorization_url(provider: OidcProvider, *, nonce: str | None, challenge: str | None) -> str:
    query = {
        "client_id": provider.client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": provider.redirect_uri,
        "state": "state-1",
        **({"nonce": nonce} if nonce else {}),
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}),
    }
    return f"{provider.discovery()['authorization_endpoint']}?{urlencode(query)}"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def callback_parameters(callback: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}


def redeem(provider: OidcProvider, code: str, verifier: str) -> Any:
    return local_browser().post(
        provider.discovery()["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(provider.client_id, provider.client_secret),  # client_secret_basic
        timeout=5,
    )


def verified_id_token(provider: OidcProvider, token: str) -> dict[str, Any]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(provider.jwks())[kid]
    return dict(
        jwt.decode(
            token, key, algorithms=["RS256"], audience=provider.client_id, issuer=provider.issuer
        )
    )


def sign_in_and_redeem(
    provider: OidcProvider, *, amr: tuple[str, ...] = ("pwd",), acr: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A whole sign-in; the callback's code and the verified ID token's claims."""
    verifier, challenge = pkce()
    url = authorization_url(provider, nonce="nonce-1", challenge=challenge)
    callback = provider.sign_in(url, email="ada@acme.test", amr=amr, acr=acr)
    code = callback_parameters(callback)["code"]
    answer = redeem(provider, code, verifier)
    assert answer.status_code == 200, answer.text
    return code, verified_id_token(provider, answer.json()["id_token"])


def test_oidc_provider_serves_discovery_and_a_fresh_rsa_signing_key(google: OidcProvider) -> None:
    discovery = google.discovery()
    keys = google.jwks()["keys"]

    assert discovery["issuer"] == google.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert [(key["kty"], key["alg"]) for key in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0]


@pytest.mark.parametrize(
    ("amr", "acr"), [(("pwd",), None), (("pwd", "mfa"), "urn:test:mfa")], ids=["pwd", "mfa"]
)
def test_id_token_is_signed_and_carries_the_amr_and_acr_of_the_login(
    google: OidcProvider, amr: tuple[str, ...], acr: str | None
) -> None:
    _, claims = sign_in_and_redeem(google, amr=amr, acr=acr)

    assert claims["amr"] == list(amr)
    assert claims.get("acr") == acr
    assert claims["email"] == "ada@acme.test"
    assert claims["nonce"] == "nonce-1"
    assert {"sub", "iat", "exp", "auth_time"} <= claims.keys()


def test_callback_carries_state_and_the_rfc_9207_issuer(google: OidcProvider) -> None:
    _, challenge = pkce()
    url = authorization_url(google, nonce="nonce-1", challenge=challenge)

    callback = callback_parameters(google.sign_in(url, email="ada@acme.test"))

    assert callback["state"] == "state-1"
    assert callback["iss"] == google.issuer


def test_a_reused_code_is_refused(google: OidcProvider) -> None:
    verifier, challenge = pkce()
    url = authorization_url(google, nonce="nonce-1", challenge=challenge)
    code = callback_parameters(google.sign_in(url, email="ada@acme.test"))["code"]
    assert redeem(google, code, verifier).status_code == 200

    again = redeem(google, code, verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_code_is_refused_without_its_pkce_verifier(google: OidcProvider) -> None:
    _, challenge = pkce()
    url = authorization_url(google, nonce="nonce-1", challenge=challenge)
    code = callback_parameters(google.sign_in(url, email="ada@acme.test"))["code"]

    answer = redeem(google, code, pkce()[0])

    assert answer.json()["error"] == "invalid_grant"


def test_authorization_without_nonce_is_refused(google: OidcProvider) -> None:
    url = authorization_url(google, nonce=None, challenge=pkce()[1])

    answer = local_browser().get(url, allow_redirects=False, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_authorization_without_pkce_is_refused(google: OidcProvider) -> None:
    url = authorization_url(google, nonce="nonce-1", challenge=None)

    answer = local_browser().get(url, allow_redirects=False, timeout=5)

    error = callback_parameters(answer.headers["location"])
    assert error["error"] == "invalid_request"
    assert "PKCE" in error["error_description"]


def test_a_second_provider_plays_microsoft_with_a_tenant_issuer_and_tid() -> None:
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    with oidc_provider(issuer_path=f"/{tenant}/v2.0", tid=tenant) as microsoft:
        _, claims = sign_in_and_redeem(microsoft)

    assert microsoft.issuer.endswith(f"/{tenant}/v2.0")
    assert claims["iss"] == microsoft.issuer
    assert claims["tid"] == tenant


def test_a_peer_that_cannot_start_fails_with_its_output() -> None:
    with (
        pytest.raises(PeerDidNotStart, match="redirect_uris must only contain valid uris"),
        oidc_provider(redirect_uri="not a url"),
    ):
        pytest.fail("the provider started with an invalid redirect_uri")


@pytest.mark.parametrize(("required", "outcome"), [("1", pytest.fail), ("", pytest.skip)])
def test_a_missing_peer_skips_or_fails_when_services_are_required(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, required: str, outcome: Any
) -> None:
    monkeypatch.setenv("TWOFOLD_REQUIRE_SERVICES", required)

    with pytest.raises(outcome.Exception, match="not installed"):
        require_installed(tmp_path)


# --- SAML ----------------------------------------------------------------------------------------


def saml_sign_in(idp: SamlIdp, request_id: str = "_request-1") -> etree._Element:
    request = redirect_authn_request(
        request_id, issuer=idp.audience, acs_url=idp.acs_url, destination=idp.sso_url
    )
    posted = idp.sign_in(request, email="ada@acme.test", relay_state="relay-1")
    assert posted.acs_url == idp.acs_url
    assert posted.relay_state == "relay-1"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(posted.xml, parser)


def certificate_body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)


def test_saml_idp_serves_metadata_with_its_entity_id_and_certificate(company_idp: SamlIdp) -> None:
    answer = local_browser().get(company_idp.metadata_url, timeout=5)
    metadata = etree.fromstring(answer.content)

    assert metadata.get("entityID") == company_idp.entity_id
    certificate = metadata.findtext(".//ds:X509Certificate", namespaces=NS)
    assert certificate is not None
    assert "".join(certificate.split()) == certificate_body(company_idp.certificate)


def test_saml_response_and_assertion_are_signed_by_the_idp_key(company_idp: SamlIdp) -> None:
    response = saml_sign_in(company_idp)
    xmlsec.tree.add_ids(response, ["ID"])
    signatures = response.findall(".//ds:Signature", namespaces=NS)

    assert {s.getparent().tag.rsplit("}")[1] for s in signatures} == {"Response", "Assertion"}
    for signature in signatures:
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(
            company_idp.certificate, xmlsec.constants.KeyDataFormatCertPem
        )
        context.verify(signature)  # raises when the signature does not verify
        method = signature.find("ds:SignedInfo/ds:SignatureMethod", namespaces=NS)
        assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def test_saml_response_answers_the_request_for_our_acs_and_audience(company_idp: SamlIdp) -> None:
    response = saml_sign_in(company_idp, request_id="_request-42")

    assert response.get("InResponseTo") == "_request-42"
    assert response.get("Destination") == company_idp.acs_url
    assert response.findtext(".//saml:Audience", namespaces=NS) == company_idp.audience
    assert response.findtext(".//saml:NameID", namespaces=NS) == "ada@acme.test"
    assert response.findtext("saml:Issuer", namespaces=NS) == company_idp.entity_id


@pytest.mark.parametrize("class_ref", [SAML_MFA, SAML_MICROSOFT_MFA, SAML_PASSWORD])
def test_authn_context_class_ref_follows_the_idp_settings(
    company_idp: SamlIdp, class_ref: str
) -> None:
    company_idp.set_authn_context(class_ref)

    response = saml_sign_in(company_idp)

    assert response.findtext(".//saml:AuthnContextClassRef", namespaces=NS) == class_ref
