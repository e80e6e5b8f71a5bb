"""What an administrator gives Twofold about their SAML identity provider, checked before it is
saved: the IdP's metadata XML (SAML 2.0 Metadata, saml-metadata-2.0-os §2.4.3
``IDPSSODescriptor``), or its entity id, SSO URL and signing certificate pasted one by one.

Every problem is a :class:`InvalidIdp` with a message the administrator can act on; untrusted
XML never raises anything else (python3-saml's parser refuses DTDs and entities: XXE, billion
laughs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

# Real metadata is a few kB to some tens of kB: bound the parser's work (threats.md 4.4, DoS).
MAX_METADATA_BYTES = 256 * 1024
MAX_CERTIFICATE_CHARS = 16 * 1024
MAX_ENTITY_ID_CHARS = 1024
# saml-metadata-2.0-os §2.4.1.1: a KeyDescriptor without ``use`` serves signing and encryption.
SIGNING_KEYS = "./md:KeyDescriptor[not(contains(@use, 'encryption'))]"
SIGNING_CERTIFICATES = f"{SIGNING_KEYS}/ds:KeyInfo/ds:X509Data/ds:X509Certificate"
LOOPBACK_HOSTS = frozenset({"localhost"})
# How Twofold sends the AuthnRequest (allauth's SAML provider redirects).
REDIRECT_BINDING = OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT


class InvalidIdp(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Certificate:
    pem: str
    subject: str
    not_after: datetime
    sha256: str


@dataclass(frozen=True)
class IdentityProvider:
    entity_id: str
    sso_url: str
    certificate: Certificate


def from_metadata(xml: bytes | str, *, now: datetime) -> IdentityProvider:
    """The identity provider described by its metadata, with the rules of pasted values."""
    raw = xml.encode() if isinstance(xml, str) else xml
    if len(raw) > MAX_METADATA_BYTES:
        raise InvalidIdp(
            f"The metadata is larger than {MAX_METADATA_BYTES // 1024} kB; "
            "check it is your identity provider's SAML metadata.",
            "metadata",
        )
    descriptor = _idp_descriptor(raw)
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(
        descriptor.getroottree().getroot(), required_sso_binding=REDIRECT_BINDING
    )
    idp = parsed.get("idp", {})
    sso_url = idp.get("singleSignOnService", {}).get("url")
    if not sso_url:
        raise InvalidIdp(
            "The metadata has no single sign-on URL for the HTTP-Redirect binding, which Twofold "
            "uses to send people to the identity provider.",
            "metadata",
        )
    return IdentityProvider(
        entity_id=checked_entity_id(idp.get("entityId", "")),
        sso_url=checked_sso_url(sso_url, field="metadata"),
        certificate=checked_certificate(_signing_certificate(descriptor), now=now),
    )


def _idp_descriptor(raw: bytes) -> etree._Element:
    try:
        root = OneLogin_Saml2_XML.to_etree(raw)
    except (etree.LxmlError, ValueError):  # ValueError: DTDs and entities are refused
        raise InvalidIdp(
            "This is not valid XML: paste or upload the metadata file as your identity provider "
            "gives it.",
            "metadata",
        ) from None
    entities = OneLogin_Saml2_XML.query(root, "//md:EntityDescriptor")
    if len(entities) > 1:
        # The parser reads the first entity only: the administrator says which one is meant.
        raise InvalidIdp(
            "The metadata describes several entities: upload the metadata of your identity "
            "provider alone.",
            "metadata",
        )
    found = OneLogin_Saml2_XML.query(root, "//md:EntityDescriptor/md:IDPSSODescriptor")
    if not found:
        raise InvalidIdp(
            "This XML is not the SAML metadata of an identity provider (no IDPSSODescriptor).",
            "metadata",
        )
    descriptor: etree._Element = found[0]
    return descriptor


def _signing_certificate(descriptor: etree._Element) -> str:
    nodes = OneLogin_Saml2_XML.query(descriptor, SIGNING_CERTIFICATES)
    found = {"".join(OneLogin_Saml2_XML.element_text(node).split()) for node in nodes}
    if not found:
        raise InvalidIdp(
            "The metadata has no signing certificate: Twofold accepts only signed responses.",
            "metadata",
        )
    if len(found) > 1:
        # A connection trusts one key; during a key rollover the administrator picks the one used.
        raise InvalidIdp(
            "The metadata lists several signing certificates: enter the entity id, SSO URL and "
            "the certificate your identity provider signs with instead.",
            "metadata",
        )
    return found.pop()


def checked_entity_id(entity_id: str) -> str:
    entity_id = entity_id.strip()
    if not entity_id:
        raise InvalidIdp("Enter the identity provider's entity id.", "idp_entity_id")
    if len(entity_id) > MAX_ENTITY_ID_CHARS:
        raise InvalidIdp(
            f"An entity id has at most {MAX_ENTITY_ID_CHARS} characters.", "idp_entity_id"
        )
    return entity_id


def checked_sso_url(url: str, *, field: str = "idp_sso_url") -> str:
    """An https URL; http only on this machine (a test IdP), where nobody can read the traffic."""
    url = url.strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise InvalidIdp("Enter the identity provider's SSO URL (https://...).", field) from None
    parts = urlsplit(url)
    if len(url) > MAX_ENTITY_ID_CHARS:
        raise InvalidIdp(f"An SSO URL has at most {MAX_ENTITY_ID_CHARS} characters.", field)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        raise InvalidIdp("The SSO URL must use https.", field)
    return url


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ip_address(host) == ip_address("127.0.0.1")
    except ValueError:
        return False


def checked_certificate(text: str, *, now: datetime) -> Certificate:
    """A PEM (or bare base64) X.509 certificate that has not expired."""
    if len(text) > MAX_CERTIFICATE_CHARS:
        raise InvalidIdp("This is too long for a certificate.", "idp_certificate")
    pem = OneLogin_Saml2_Utils.format_cert(text.strip(), heads=True)
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise InvalidIdp(
            "This is not a certificate: paste it in PEM form (-----BEGIN CERTIFICATE-----).",
            "idp_certificate",
        ) from None
    facts = describe(certificate)
    if facts.not_after <= now:
        # An expired key may have leaked since; the IdP must sign with a current one.
        raise InvalidIdp(
            f"This certificate expired on {facts.not_after:%Y-%m-%d}: get the current one from "
            "your identity provider.",
            "idp_certificate",
        )
    return facts


def describe(certificate: x509.Certificate) -> Certificate:
    return Certificate(
        pem=certificate.public_bytes(Encoding.PEM).decode(),
        subject=certificate.subject.rfc4514_string(),
        not_after=certificate.not_valid_after_utc,
        sha256=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def describe_pem(pem: str) -> Certificate | None:
    """The facts of a saved certificate, for the page; None if it cannot be read."""
    try:
        return describe(x509.load_pem_x509_certificate(pem.encode()))
    except ValueError:
        return None
