"""Identity-provider material made by the tests: self-signed certificates (valid or expired) and
SAML metadata around them, with the parts an administrator's upload may lack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
SSO_URL = "https://idp.acme.test/saml/sso"
ENTITY_ID = "https://idp.acme.test/metadata"


@cache
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(
    *, common_name: str = "idp.acme.test", valid_for: timedelta = timedelta(days=365)
) -> str:
    """A self-signed certificate ending ``valid_for`` from now (negative: already expired)."""
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    not_after = now + valid_for
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - timedelta(days=30))
        .not_valid_after(not_after)
        .sign(_key(), hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM).decode()


def bare(pem: str) -> str:
    """The base64 body of a PEM certificate, as metadata carries it."""
    return "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)


def key_descriptor(pem: str, use: str | None = "signing") -> str:
    use_attribute = f' use="{use}"' if use else ""
    return (
        f"<md:KeyDescriptor{use_attribute}><ds:KeyInfo><ds:X509Data>"
        f"<ds:X509Certificate>{bare(pem)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    )


def metadata_xml(
    *,
    entity_id: str = ENTITY_ID,
    sso_url: str = SSO_URL,
    binding: str = REDIRECT,
    keys: str | None = None,
) -> str:
    """An IdP's metadata; ``keys`` replaces its one signing certificate (``""``: none)."""
    if keys is None:
        keys = key_descriptor(certificate_pem())
    return (
        '<?xml version="1.0"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}"
        f'<md:SingleSignOnService Binding="{binding}" Location="{sso_url}"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )
