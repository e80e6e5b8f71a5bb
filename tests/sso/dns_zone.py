"""A real DNS server on 127.0.0.1 for the domain-verification tests (dnslib), and Twofold's
resolver pointed at it (``TWOFOLD_DNS_RESOLVER``'s setting).

``dns_zone`` is the zone it serves: ``zone.publish("acme.test", "twofold-verification=…")`` adds
a TXT record, ``zone.remove("acme.test")`` removes the domain (NXDOMAIN), ``zone.failing = True``
answers SERVFAIL to everything (an outage of the domain's DNS).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer

QUIET = "-recv,-send,-request,-reply,-truncated,-error,-data"


@dataclass
class Zone(BaseResolver):  # type: ignore[misc]
    """Names (lower case, no trailing dot) and their TXT records; other names do not exist."""

    records: dict[str, list[str]] = field(default_factory=dict)
    failing: bool = False
    queries: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, name: str, value: str) -> None:
        with self.lock:
            self.records.setdefault(name, []).append(value)

    def remove(self, name: str) -> None:
        with self.lock:
            self.records.pop(name, None)

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.queries.clear()
            self.failing = False

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            self.queries.append(name)
            if self.failing:
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if name not in self.records:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            values = list(self.records[name]) if request.q.qtype == QTYPE.TXT else []
        for value in values:
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=0))
        return reply  # a name without TXT records: NOERROR, no answer


@pytest.fixture(scope="module")
def dns_server() -> Iterator[tuple[Zone, int]]:
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger(QUIET, prefix=False))
    server.start_thread()
    try:
        yield zone, int(server.server.server_address[1])
    finally:
        server.stop()
        server.server.server_close()


@pytest.fixture
def dns_zone(settings: Any, dns_server: tuple[Zone, int]) -> Zone:
    """Twofold asks the test's DNS server, and only it; its zone starts empty."""
    zone, port = dns_server
    zone.reset()
    twofold = settings.TWOFOLD
    settings.TWOFOLD = replace(
        twofold, sso=replace(twofold.sso, dns_resolvers=(("127.0.0.1", port),))
    )
    return zone
