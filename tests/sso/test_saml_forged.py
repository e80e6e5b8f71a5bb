"""Forged and mutated SAML responses posted to our ACS (issue 5; ASVS 6.8.2, 6.8.3).

Each case starts from a response the saml-idp peer genuinely signed (the SAMLResponse its page
posts), changes it with lxml and posts it as the browser would. Where only one checked property
must be wrong (audience, times, Recipient, Destination, InResponseTo), the change is re-signed
with the peer's own key. Every case: refused with the page (never a 500), nobody signed in, a
refusal audited with its cause, and the member still signs in with a genuine response afterwards.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from tests.peers.harness import SamlIdp, SamlPost
from tests.sso.saml import (  # noqa: F401
    acme_idp,
    acs_url,
    at_idp,
    connect,
    globex_idp,
    post_to_acs,
    redirect_of,
    sign_in,
    start,
)
from twofold import clock
from twofold.audit.events import Event
from twofold.audit.models import AuditEvent
from twofold.organizations.models import Membership
from twofold.sso.models import SamlConnection
from twofold.sso.saml import MAX_RESPONSE_CHARS

pytestmark = pytest.mark.django_db

EMAIL = "bob@acme.test"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
ASSERTION = "saml:Assertion"
SIGNATURE = "ds:Signature"


@pytest.fixture
def connection(acme_idp: SamlIdp, administrator: Membership) -> SamlConnection:  # noqa: F811
    return connect(administrator.organization, acme_idp, slug="acme", domain="acme.test")


@pytest.fixture
def linked(connection: SamlConnection, member: Membership) -> Membership:
    SocialAccount.objects.create(user=member.user, provider=connection.provider_id, uid=EMAIL)
    return member


# --- building forged responses ---------------------------------------------------------------


def parse(posted: SamlPost) -> Any:
    return etree.fromstring(posted.xml)


def encode(document: Any) -> str:
    return base64.b64encode(etree.tostring(document)).decode()


def one(node: Any, path: str) -> Any:
    found = node.xpath(path, namespaces=NS)
    assert found, f"{path} not in the peer's response"
    return found[0]


def strip_signature(node: Any) -> None:
    for signature in node.xpath(f"./{SIGNATURE}", namespaces=NS):
        node.remove(signature)


def resign(document: Any, idp: SamlIdp) -> Any:
    """Sign the assertion, then the response, with ``idp``'s key, as the peer does."""
    assertion = one(document, f"./{ASSERTION}")
    strip_signature(assertion)
    strip_signature(document)
    signed = etree.fromstring(
        OneLogin_Saml2_Utils.add_sign(etree.tostring(assertion), idp.key, idp.certificate)
    )
    document.replace(assertion, signed)
    return etree.fromstring(
        OneLogin_Saml2_Utils.add_sign(etree.tostring(document), idp.key, idp.certificate)
    )


def instant(delta: timedelta) -> str:
    return (clock.now() + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- mutations that break the signature (no re-signing) ---------------------------------------


def name_id_edited(document: Any) -> Any:
    one(document, ".//saml:Subject/saml:NameID").text = "alice@acme.test"
    return document


def signatures_stripped(document: Any) -> Any:
    strip_signature(document)
    strip_signature(one(document, f"./{ASSERTION}"))
    return document


def assertion_signature_stripped(document: Any) -> Any:
    strip_signature(one(document, f"./{ASSERTION}"))
    return document


def response_signature_stripped(document: Any) -> Any:
    strip_signature(document)
    return document


def forged_copy(document: Any) -> Any:
    """The signed assertion's copy, unsigned, naming another member."""
    forged = copy.deepcopy(one(document, f"./{ASSERTION}"))
    strip_signature(forged)
    one(forged, "./saml:Subject/saml:NameID").text = "alice@acme.test"
    return forged


def xsw_forged_before_the_signed_one(document: Any) -> Any:
    signed = one(document, f"./{ASSERTION}")
    forged = forged_copy(document)
    forged.set("ID", "_forged")
    signed.addprevious(forged)
    return document


def xsw_forged_with_the_signed_ones_id(document: Any) -> Any:
    signed = one(document, f"./{ASSERTION}")
    signed.addprevious(forged_copy(document))  # same ID: a reference may resolve to either
    return document


def xsw_signed_one_wrapped_inside_the_forged_one(document: Any) -> Any:
    signed = one(document, f"./{ASSERTION}")
    forged = forged_copy(document)
    forged.set("ID", "_forged")
    document.replace(signed, forged)
    one(forged, "./saml:Subject").append(signed)
    return document


def xsw_signed_one_moved_into_the_signature_object(document: Any) -> Any:
    signed = one(document, f"./{ASSERTION}")
    forged = forged_copy(document)
    document.replace(signed, forged)
    holder = etree.SubElement(one(document, f"./{SIGNATURE}"), f"{{{NS['ds']}}}Object")
    holder.append(signed)
    return document


def xsw_forged_response_wrapping_the_signed_one(document: Any) -> Any:
    forged = copy.deepcopy(document)
    strip_signature(forged)
    forged.set("ID", "_forged_response")
    for assertion in forged.xpath(f"./{ASSERTION}", namespaces=NS):
        forged.remove(assertion)
    forged.append(forged_copy(document))
    extensions = etree.SubElement(forged, f"{{{NS['samlp']}}}Extensions")
    extensions.append(document)
    return forged


BROKEN_SIGNATURES: dict[str, Callable[[Any], Any]] = {
    "name_id_edited_after_signing": name_id_edited,
    "both_signatures_stripped": signatures_stripped,
    "assertion_signature_stripped": assertion_signature_stripped,
    "response_signature_stripped": response_signature_stripped,
    "xsw_forged_assertion_before_the_signed_one": xsw_forged_before_the_signed_one,
    "xsw_forged_assertion_with_the_signed_ones_id": xsw_forged_with_the_signed_ones_id,
    "xsw_signed_assertion_wrapped_inside_the_forged_one": (
        xsw_signed_one_wrapped_inside_the_forged_one
    ),
    "xsw_signed_assertion_moved_into_the_signature_object": (
        xsw_signed_one_moved_into_the_signature_object
    ),
    "xsw_forged_response_wrapping_the_signed_one": xsw_forged_response_wrapping_the_signed_one,
}


# --- mutations of one checked property, re-signed with the peer's key -------------------------


def wrong_audience(document: Any) -> None:
    one(
        document, ".//saml:AudienceRestriction/saml:Audience"
    ).text = "http://testserver/accounts/saml/globex/metadata/"


def expired(document: Any) -> None:
    conditions = one(document, ".//saml:Conditions")
    conditions.set("NotBefore", instant(-timedelta(hours=2)))
    conditions.set("NotOnOrAfter", instant(-timedelta(hours=1)))
    one(document, ".//saml:SubjectConfirmationData").set(
        "NotOnOrAfter", instant(-timedelta(hours=1))
    )


def not_yet_valid(document: Any) -> None:
    one(document, ".//saml:Conditions").set("NotBefore", instant(timedelta(hours=1)))


def wrong_recipient(document: Any) -> None:
    # Contains our ACS URL: python3-saml alone compares Recipient as a substring.
    one(document, ".//saml:SubjectConfirmationData").set("Recipient", acs_url("acme") + "x")


def wrong_destination(document: Any) -> None:
    document.set("Destination", acs_url("globex"))


def wrong_issuer(document: Any) -> None:
    for issuer in document.xpath(".//saml:Issuer", namespaces=NS):
        issuer.text = "urn:globex:idp"


RESIGNED: dict[str, tuple[Callable[[Any], None], str]] = {
    "wrong_audience": (wrong_audience, "audience"),
    "expired": (expired, "expired"),
    "not_yet_valid": (not_yet_valid, "not yet valid"),
    "wrong_recipient": (wrong_recipient, "Recipient"),
    "wrong_destination": (wrong_destination, "instead of"),
    "wrong_issuer": (wrong_issuer, "issuer"),
}


# --- assertions -------------------------------------------------------------------------------


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return str(value) if value is not None else None


def refusal_reason() -> str:
    event = AuditEvent.objects.filter(event=Event.SSO_SIGN_IN_REFUSED).latest("pk")
    reason = str(event.detail["reason"])
    assert reason
    return reason


def assert_refused(client: Client, answer: Any) -> str:
    """Refused with the page, nobody signed in; the audited cause."""
    assert answer.status_code == 403, answer.content[:800]
    assert "<h1>Sign-in refused</h1>" in answer.content.decode()
    assert signed_in_user_id(client) is None
    return refusal_reason()


def assert_still_signs_in(client: Client, idp: SamlIdp, member: Membership) -> None:
    answer = sign_in(client, idp, email=EMAIL)
    assert answer.status_code == 302, answer.content[:800]
    assert signed_in_user_id(client) == str(member.user.pk)


def genuine(client: Client, idp: SamlIdp, email: str = EMAIL) -> SamlPost:
    return at_idp(idp, start(client, email), email=email)


def post_forged(client: Client, posted: SamlPost, document: Any) -> Any:
    return post_to_acs(client, posted, saml_response=encode(document))


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", list(BROKEN_SIGNATURES), ids=list(BROKEN_SIGNATURES))
def test_asvs_6_8_2_saml_response_changed_after_signing_is_refused(
    attack: str,
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)

    answer = post_forged(client, posted, BROKEN_SIGNATURES[attack](parse(posted)))

    reason = assert_refused(client, answer)
    assert reason not in ("not_linked", "in_response_to", "replayed")
    assert_still_signs_in(client, acme_idp, linked)


@pytest.mark.parametrize("case", list(RESIGNED), ids=list(RESIGNED))
def test_asvs_6_8_2_saml_response_validly_signed_but_wrong_in_one_checked_property_is_refused(
    case: str,
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)
    document = parse(posted)
    mutate, cause = RESIGNED[case]
    mutate(document)

    answer = post_forged(client, posted, resign(document, acme_idp))

    assert cause.lower() in assert_refused(client, answer).lower()
    assert_still_signs_in(client, acme_idp, linked)


def test_resigning_with_the_peers_key_alone_is_accepted(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    """The re-signing above is faithful: with nothing changed, the response is accepted."""
    client = Client()
    posted = genuine(client, acme_idp)

    answer = post_forged(client, posted, resign(parse(posted), acme_idp))

    assert answer.status_code == 302, answer.content[:800]
    assert signed_in_user_id(client) == str(linked.user.pk)


def test_asvs_6_8_2_saml_response_signed_by_another_accounts_identity_provider_is_refused(
    acme_idp: SamlIdp,  # noqa: F811
    globex_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)

    answer = post_forged(client, posted, resign(parse(posted), globex_idp))

    assert "signature" in assert_refused(client, answer).lower()
    assert_still_signs_in(client, acme_idp, linked)


def test_saml_name_id_with_a_comment_inside_is_read_whole(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    """The IdP signed ``bob@acme.test.evil.test``; a comment after ``bob@acme.test`` keeps the
    signature valid (canonicalization drops comments) but must not make it read as bob."""
    client = Client()
    posted = at_idp(acme_idp, start(client, EMAIL), email="bob@acme.test.evil.test")
    document = parse(posted)
    name_id = one(document, ".//saml:Subject/saml:NameID")
    assert name_id.text == "bob@acme.test.evil.test"
    name_id.text = EMAIL
    comment = etree.Comment("")
    comment.tail = ".evil.test"
    name_id.append(comment)

    answer = post_forged(client, posted, document)

    assert assert_refused(client, answer) == "not_linked"
    assert signed_in_user_id(client) is None
    assert_still_signs_in(client, acme_idp, linked)


def test_asvs_6_8_3_saml_response_with_the_in_response_to_of_another_session_is_refused(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    victim, attacker = Client(), Client()
    genuine(attacker, acme_idp)  # the attacker's own session has a request pending too
    stolen = genuine(victim, acme_idp)

    answer = post_to_acs(attacker, stolen)

    assert assert_refused(attacker, answer) == "in_response_to"
    assert_still_signs_in(attacker, acme_idp, linked)


def test_asvs_6_8_3_saml_response_replayed_in_the_same_session_is_refused(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)
    post_to_acs(client, posted)
    assert signed_in_user_id(client) == str(linked.user.pk)
    client.logout()

    answer = post_to_acs(client, posted)

    assert assert_refused(client, answer) == "in_response_to"
    assert_still_signs_in(client, acme_idp, linked)


def without_in_response_to(document: Any) -> None:
    document.attrib.pop("InResponseTo", None)
    one(document, ".//saml:SubjectConfirmationData").attrib.pop("InResponseTo", None)


def test_unsolicited_saml_response_is_refused_by_default(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)
    document = parse(posted)
    without_in_response_to(document)

    answer = post_forged(client, posted, resign(document, acme_idp))

    assert_refused(client, answer)
    assert_still_signs_in(client, acme_idp, linked)


def test_asvs_6_8_3_unsolicited_saml_response_replayed_where_allowed_is_refused(
    acme_idp: SamlIdp,  # noqa: F811
    connection: SamlConnection,
    linked: Membership,
) -> None:
    connection.allow_idp_initiated = True
    connection.save()
    first, second = Client(), Client()
    posted = genuine(first, acme_idp)
    document = parse(posted)
    without_in_response_to(document)
    unsolicited = resign(document, acme_idp)
    post_forged(first, posted, unsolicited)
    assert signed_in_user_id(first) == str(linked.user.pk)

    answer = post_forged(second, posted, unsolicited)

    assert assert_refused(second, answer) == "replayed"
    assert_still_signs_in(second, acme_idp, linked)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&c;</samlp:Response>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>'
)
MALFORMED: dict[str, tuple[str, str]] = {
    "oversize": ("A" * (MAX_RESPONSE_CHARS + 1), "too_large"),
    "not_base64": ("%%% not base64 %%%", "invalid_response"),
    "not_xml": (base64.b64encode(b"this is not XML").decode(), "invalid_response"),
    "xxe_external_entity": (base64.b64encode(XXE).decode(), "invalid_response"),
    "billion_laughs": (base64.b64encode(BILLION_LAUGHS).decode(), "invalid_response"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_saml_response_is_refused_with_a_page_not_an_error(
    case: str,
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    posted = genuine(client, acme_idp)
    saml_response, reason = MALFORMED[case]

    answer = post_to_acs(client, posted, saml_response=saml_response)

    assert assert_refused(client, answer) == reason
    assert_still_signs_in(client, acme_idp, linked)


def test_api_client_with_a_forged_saml_response_returns_to_its_app_with_an_error(
    acme_idp: SamlIdp,  # noqa: F811
    linked: Membership,
) -> None:
    client = Client()
    found = client.post(
        "/api/v1/auth/sso", '{"email": "bob@acme.test"}', content_type="application/json"
    )
    redirect = client.post(
        "/_allauth/browser/v1/auth/provider/redirect",
        {
            "provider": found.json()["data"]["provider"]["id"],
            "process": "login",
            "callback_url": "/app/callback",
        },
    )
    posted = at_idp(acme_idp, redirect_of(redirect["Location"]), email=EMAIL)
    document = parse(posted)
    wrong_audience(document)

    answer = post_forged(client, posted, resign(document, acme_idp))

    assert answer.status_code == 302
    assert answer["Location"].startswith("/app/callback?")
    assert "error=denied" in answer["Location"]
    assert signed_in_user_id(client) is None
    assert "audience" in refusal_reason().lower()
