"""TXT records of a domain, read with dnspython (a maintained DNS library: docs/sso.md) from the
system's resolver (``/etc/resolv.conf``) or the ones ``TWOFOLD_DNS_RESOLVER`` names.

A definite answer ("no such domain", "no TXT record", the records) is told apart from no answer
(timeout, SERVFAIL, no resolver): a resolver's outage must never count as a record removed.
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings

# Seconds for one lookup, all retries included: an administrator's request waits that long.
LIFETIME = 5.0


class DnsUnavailable(Exception):
    """No definite answer could be had; nothing may be concluded about the records."""


def resolver() -> dns.resolver.Resolver:
    """The configured resolvers, else the system's."""
    configured = settings.TWOFOLD.sso.dns_resolvers
    if not configured:
        return dns.resolver.Resolver()
    chosen = dns.resolver.Resolver(configure=False)
    chosen.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in configured]
    return chosen


def txt_values(domain: str) -> list[str]:
    """The TXT records at ``domain`` (A-labels), each one's strings joined; [] when the domain or
    its TXT records do not exist. Raise :class:`DnsUnavailable` when no definite answer came."""
    try:
        # Absolute: the resolver's search list never turns acme.com into acme.com.corp.example.
        answer = resolver().resolve(
            dns.name.from_text(domain), "TXT", lifetime=LIFETIME, search=False
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as error:  # timeout, SERVFAIL, no resolver configured
        raise DnsUnavailable(f"{type(error).__name__}: {error}"[:200]) from error
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
