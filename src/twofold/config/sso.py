"""Sign-in with Google and Microsoft (OpenID Connect): which identity providers are offered.

Read by :mod:`twofold.config.env` from ``TWOFOLD_GOOGLE_*`` and ``TWOFOLD_MICROSOFT_*``. A
provider is offered only when its client id and secret are both set; one without the other is
refused at start-up (STYLE.md rule 9). The secrets are :class:`Secret`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from twofold.config.secret import Secret

PREFIX = "TWOFOLD_"
GOOGLE_SERVER_URL = "https://accounts.google.com"
MICROSOFT_SERVER_URL = "https://login.microsoftonline.com/organizations/v2.0"

VARIABLES: dict[str, str] = {
    "GOOGLE_CLIENT_ID": 'OAuth client id for "Sign in with Google" (with `GOOGLE_CLIENT_SECRET`)',
    "GOOGLE_CLIENT_SECRET": 'OAuth client secret for "Sign in with Google"',
    "GOOGLE_SERVER_URL": f"Google's OpenID Connect issuer; default `{GOOGLE_SERVER_URL}`",
    "MICROSOFT_CLIENT_ID": 'Entra application (client) id for "Sign in with Microsoft" '
    "(with `MICROSOFT_CLIENT_SECRET`)",
    "MICROSOFT_CLIENT_SECRET": 'Entra client secret for "Sign in with Microsoft"',
    "MICROSOFT_SERVER_URL": f"Microsoft's OpenID Connect issuer; default `{MICROSOFT_SERVER_URL}`",
    "DNS_RESOLVER": "comma-separated DNS resolvers (`IP` or `IP:port`, `[IPv6]:port`) that check "
    "email domains' TXT records; default the system's (`/etc/resolv.conf`)",
}
DNS_PORT = 53
# Each may come from the file TWOFOLD_<NAME>_FILE names instead (config/env.py, SECRET_VARIABLES).
SECRETS = ("GOOGLE_CLIENT_SECRET", "MICROSOFT_CLIENT_SECRET")


class Reader(Protocol):
    problems: list[str]

    @property
    def env(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class OidcClient:
    """One identity provider Twofold signs people in with: allauth's ``provider_id`` and name."""

    provider_id: str
    name: str
    client_id: str
    client_secret: Secret
    server_url: str


@dataclass(frozen=True)
class SsoSettings:
    google: OidcClient | None
    microsoft: OidcClient | None
    # (address, port) of each resolver for domain verification; none: the system's.
    dns_resolvers: tuple[tuple[str, int], ...] = ()

    @property
    def clients(self) -> tuple[OidcClient, ...]:
        return tuple(c for c in (self.google, self.microsoft) if c is not None)


def read(reader: Reader) -> SsoSettings:
    return SsoSettings(
        google=_client(reader, "GOOGLE", "google", "Google", GOOGLE_SERVER_URL),
        microsoft=_client(reader, "MICROSOFT", "microsoft", "Microsoft", MICROSOFT_SERVER_URL),
        dns_resolvers=_resolvers(reader),
    )


def _resolvers(reader: Reader) -> tuple[tuple[str, int], ...]:
    raw = reader.env.get("DNS_RESOLVER", "")
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        resolver = resolver_address(item)
        if resolver is None:
            reader.problems.append(
                f"{PREFIX}DNS_RESOLVER: {item!r} is not an IP address (IP, IP:port or [IPv6]:port)"
            )
            continue
        found.append(resolver)
    return tuple(found)


def resolver_address(item: str) -> tuple[str, int] | None:
    """``IP``, ``IPv4:port`` or ``[IPv6]:port`` as (address, port); None when it is none of them.
    Addresses only: a resolver named by a host name would need a resolver first."""
    host, port = item, str(DNS_PORT)
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif item.count(":") == 1:
        host, port = item.split(":")
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        return None
    return (str(address), number) if 0 < number < 65536 else None


def _client(
    reader: Reader, prefix: str, provider_id: str, name: str, default_url: str
) -> OidcClient | None:
    client_id = reader.env.get(f"{prefix}_CLIENT_ID", "")
    secret = reader.env.get(f"{prefix}_CLIENT_SECRET", "")
    server_url = (reader.env.get(f"{prefix}_SERVER_URL") or default_url).rstrip("/")
    if bool(client_id) != bool(secret):
        reader.problems.append(
            f"{PREFIX}{prefix}_CLIENT_ID and {PREFIX}{prefix}_CLIENT_SECRET go together: "
            "set both to offer sign-in with " + name + ", or neither"
        )
        return None
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        reader.problems.append(f"{PREFIX}{prefix}_SERVER_URL={server_url!r} must be an https URL")
        return None
    if not client_id:
        return None
    return OidcClient(provider_id, name, client_id, Secret(secret), server_url)


def allauth_providers(sso: SsoSettings) -> dict[str, Any]:
    """``SOCIALACCOUNT_PROVIDERS``: one allauth ``openid_connect`` app per configured provider."""
    return {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [app(c) for c in sso.clients]}}


def app(client: OidcClient) -> dict[str, Any]:
    """An allauth app: PKCE on, the subject taken from the verified ID token (no UserInfo)."""
    return {
        "provider_id": client.provider_id,
        "name": client.name,
        "client_id": client.client_id,
        "secret": str(client.client_secret),
        "settings": {
            "server_url": client.server_url,
            "oauth_pkce_enabled": True,
            "fetch_userinfo": False,
            "token_auth_method": "client_secret_basic",
        },
    }
