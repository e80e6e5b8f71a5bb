"""A software WebAuthn authenticator for tests: "none" attestation and ES256 assertions, built
by hand with ``cryptography`` (python-fido2 ships no soft token). It answers the options the
server sends the way a browser and an authenticator would (WebAuthn 6.1, 6.5, 7.1, 7.2)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, verified, attested data


@dataclass
class SoftAuthenticator:
    origin: str = "https://testserver"
    user_verified: bool = True
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    counter: int = 0
    user_handle: bytes | None = None
    rp_id: str = ""

    def _flags(self, *extra: int) -> int:
        flags = UP | (UV if self.user_verified else 0)
        for value in extra:
            flags |= value
        return flags

    def create(self, options: dict[str, Any], *, resident: bool = True) -> dict[str, Any]:
        """The answer to ``navigator.credentials.create({publicKey: options})``."""
        public = options["publicKey"]
        self.rp_id = public["rp"]["id"]
        self.user_handle = websafe_decode(public["user"]["id"])
        cose_key = cbor.encode(dict(ES256.from_cryptography_key(self.key.public_key())))
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = self._auth_data(self._flags(AT)) + attested + cose_key
        attestation = cbor.encode({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", public["challenge"])
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "attestationObject": websafe_encode(attestation),
            },
            "clientExtensionResults": {"credProps": {"rk": resident}},
        }

    def get(self, options: dict[str, Any], *, counter_step: int = 1) -> dict[str, Any]:
        """The answer to ``navigator.credentials.get({publicKey: options})``."""
        public = options["publicKey"]
        self.counter += counter_step
        auth_data = self._auth_data(self._flags())
        client_data = self._client_data("webauthn.get", public["challenge"])
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": websafe_encode(self.user_handle or b""),
            },
            "clientExtensionResults": {},
        }

    def _auth_data(self, flags: int) -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data).encode()
