"""The identity provider's signing keys in the data directory, when ``TWOFOLD_OIDC_PRIVATE_KEY``
is not given (development, or one machine): ``oidc_private_key.pem`` signs, and
``oidc_retired_keys.json`` holds the public half of each key it replaced, published in the JWKS
as long as anything that key signed is accepted (docs/operations.md, "Rotating the signing key").

A key's ``kid`` is its JWK thumbprint (RFC 7638), as django-oauth-toolkit names it. Every change
is a new file renamed over the old one, mode 0600, so a reader sees the old file or the new, never
half of one; and everything happens under an exclusive ``flock`` of ``oidc_keys.lock``, so two
rotations at once, or a rotation beside a worker starting, take turns.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk

from twofold.config import private_files

SIGNING = "oidc_private_key.pem"
RETIRED = "oidc_retired_keys.json"
LOCK = "oidc_keys.lock"
KEY_SIZE = 2048  # RS256 (RFC 7518 3.3: 2048 bits or larger)

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


class KeyStoreError(Exception):
    """The keys in the data directory cannot be read; the message is one line, without a key."""


@dataclass(frozen=True)
class RetiredKey:
    kid: str
    public_key: str  # PEM: a retired key only verifies, so its private half is not kept
    retired_at: datetime
    published_until: datetime


@dataclass(frozen=True)
class Keys:
    signing: str = field(repr=False)  # the private key, PEM: never printed
    retired: tuple[RetiredKey, ...]  # those still published


@dataclass(frozen=True)
class Rotation:
    kid: str  # the new signing key's
    retired: RetiredKey  # the key it replaced
    dropped: tuple[RetiredKey, ...]  # retired keys past their time, now deleted


def load(data_dir: Path, now: datetime) -> Keys:
    """The signing key (generated at the first start) and the retired keys still published at
    ``now``; read at start-up by every process."""
    with _locked(data_dir):
        signing = _signing_key(data_dir)
        retired = _retired_keys(data_dir)
    kid = kid_of(signing)
    return Keys(signing, tuple(k for k in retired if k.published_until > now and k.kid != kid))


def rotate(data_dir: Path, *, now: datetime, keep_for: timedelta) -> Rotation:
    """Make a new key the signing key; the one it replaces stays published until
    ``now + keep_for``, and retired keys past their time are deleted."""
    with _locked(data_dir):
        previous = _signing_key(data_dir)
        retired = RetiredKey(kid_of(previous), public_key(previous), now, now + keep_for)
        others = [k for k in _retired_keys(data_dir) if k.kid != retired.kid]
        kept = [k for k in others if k.published_until > now]
        new = new_private_key()
        # The old key is kept before the new one signs: a crash in between leaves the old key
        # signing and retired at once (loading ignores the retired copy), never lost.
        private_files.replace(data_dir / RETIRED, _dumped([*kept, retired]).encode())
        private_files.replace(data_dir / SIGNING, (new + "\n").encode())
    dropped = tuple(k for k in others if k not in kept)
    return Rotation(kid_of(new), retired, dropped)


def new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode().strip()


def valid_private_key(pem: str) -> bool:
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, rsa.RSAPrivateKey)


def public_key(pem: str) -> str:
    """The public half of an RSA key given in PEM, private or public; ValueError otherwise."""
    data = pem.strip().encode()
    try:
        key: object = serialization.load_pem_private_key(data, password=None).public_key()
    except (ValueError, TypeError):
        key = serialization.load_pem_public_key(data)  # raises ValueError if it is none either
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    encoded = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode().strip()


def public_keys(text: str) -> tuple[str, ...]:
    """The public halves of the RSA keys in ``text`` (PEM blocks one after another), each once;
    ValueError naming the first one that is not, by its place, never by its content."""
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(text)]
    if not blocks or _PEM_BLOCK.sub("", text).strip():
        raise ValueError("must be RSA keys in PEM, one after another")
    found: list[str] = []
    for place, block in enumerate(blocks, start=1):
        try:
            found.append(public_key(block))
        except ValueError:
            raise ValueError(f"key {place} of {len(blocks)} is not an RSA key in PEM") from None
    return tuple(dict.fromkeys(found))


def kid_of(pem: str) -> str:
    """The key's ``kid``: its RFC 7638 thumbprint, as the toolkit puts it in tokens and JWKS."""
    return str(jwk.JWK.from_pem(pem.encode()).thumbprint())


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to a file that must not exist yet, mode 0600, whole or not at all."""
    temporary = private_files.written_beside(path, text.encode())
    try:
        os.link(temporary, path)  # fails if the file exists: never overwrite a key
    finally:
        temporary.unlink()


def _signing_key(data_dir: Path) -> str:
    path = data_dir / SIGNING
    try:
        pem = path.read_text().strip()
    except FileNotFoundError:
        pem = new_private_key()
        private_files.replace(path, (pem + "\n").encode())
    except OSError as error:
        raise KeyStoreError(f"{path} cannot be read: {error.strerror}") from None
    if not valid_private_key(pem):
        raise KeyStoreError(f"{path} is not an RSA private key in PEM")
    return pem


def _retired_keys(data_dir: Path) -> list[RetiredKey]:
    path = data_dir / RETIRED
    try:
        return [_retired_key(entry) for entry in json.loads(path.read_text())["retired"]]
    except FileNotFoundError:
        return []
    except OSError as error:
        raise KeyStoreError(f"{path} cannot be read: {error.strerror}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise KeyStoreError(f"{path} is damaged ({type(error).__name__})") from None


def _retired_key(entry: dict[str, str]) -> RetiredKey:
    public = public_key(entry["public_key"])
    retired_at = datetime.fromisoformat(entry["retired_at"])
    published_until = datetime.fromisoformat(entry["published_until"])
    if retired_at.tzinfo is None or published_until.tzinfo is None:
        raise ValueError("a time without its time zone")
    # The kid from the key itself, whatever the file says.
    return RetiredKey(kid_of(public), public, retired_at, published_until)


def _dumped(keys: list[RetiredKey]) -> str:
    entries = [
        {
            "kid": k.kid,
            "public_key": k.public_key,
            "retired_at": k.retired_at.isoformat(),
            "published_until": k.published_until.isoformat(),
        }
        for k in keys
    ]
    return json.dumps({"retired": entries}, indent=2) + "\n"


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(data_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
