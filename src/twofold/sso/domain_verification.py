"""Proof that an account owns the email domains it claims (issue 16, item 10).

A claim does nothing until it is verified: no "Sign in with SSO" routing, no just-in-time
membership (``EmailDomain.objects.verified()``). It is verified when the domain publishes a TXT
record ``twofold-verification=<the claim's token>`` (checked with dnspython, sso/dns_txt.py), or
when an operator vouches for it (``twofold verify-domain``, for domains without public DNS).

- One verified claim per domain across Twofold, kept by the database
  (``sso_one_verified_claim_per_domain``): when two accounts prove the same domain at once, one
  wins and the other hears 409 ``domain_taken``, which never names the winner.
- ``twofold check-domains`` re-checks every claim (run it daily from cron, or the scheduler): a
  pending claim whose record appeared is verified; a DNS-verified claim whose record is gone on
  :data:`LAPSE_AFTER` checks in a row loses its verification (audited), so a domain that changes
  hands stops sending its people to the old account. A DNS outage changes nothing: no answer is
  not an answer "the record is gone".
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy

from twofold import clock
from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, Unavailable
from twofold.organizations.models import Membership
from twofold.sso import dns_txt, settings_flows
from twofold.sso.models import EmailDomain, VerifiedBy

# Checks in a row that find the record gone before a verified claim lapses: a few days of a
# daily check, so that a DNS change gone wrong can be put right before people are locked out.
LAPSE_AFTER = 3

RECORD_MISSING = gettext_lazy(
    "The TXT record was not found at {domain}. Add a TXT record with the value {value} at "
    "{domain}, wait until it is published, then verify again."
)
DNS_UNAVAILABLE = gettext_lazy(
    "The domain's DNS could not be asked just now. Try again in a few minutes."
)


def record_published(claimed: EmailDomain) -> bool:
    """The domain publishes this claim's TXT record. Raise ``DnsUnavailable`` without an answer."""
    return claimed.txt_record in (value.strip() for value in dns_txt.txt_values(claimed.domain))


def verify_domain(actor: Membership, domain_id: int) -> EmailDomain:
    """An administrator asks Twofold to look for the claim's TXT record now."""
    claimed = settings_flows.get_domain(actor, domain_id)  # administrators, own account only
    if claimed.verified:
        return claimed
    if EmailDomain.objects.verified().filter(domain=claimed.domain).exists():
        # Another account's claim holds it: no DNS query for a claim that cannot win.
        raise Conflict(settings_flows.DOMAIN_TAKEN, code="domain_taken", param="domain")
    try:
        published = record_published(claimed)
    except dns_txt.DnsUnavailable:
        raise Unavailable(DNS_UNAVAILABLE, code="dns_unavailable") from None
    if not published:
        message = RECORD_MISSING.format(domain=claimed.domain, value=claimed.txt_record)
        raise Conflict(message, code="domain_record_missing", param="domain")
    if _mark_verified(claimed, VerifiedBy.DNS):
        _audit(claimed, "verified", actor=actor)
    return claimed


def _mark_verified(claimed: EmailDomain, by: VerifiedBy) -> bool:
    """Verify the claim; False when it already was. ``Conflict`` when another account's claim of
    the domain is verified (the database decides, so a race has one winner)."""
    now = clock.now()
    try:
        with transaction.atomic():
            changed = EmailDomain.objects.filter(pk=claimed.pk, verified_at__isnull=True).update(
                verified_at=now, verified_by=by, checked_at=now, missed_checks=0
            )
    except IntegrityError:  # sso_one_verified_claim_per_domain
        # Never say which account: that would tell one customer who another's is.
        raise Conflict(settings_flows.DOMAIN_TAKEN, code="domain_taken", param="domain") from None
    claimed.refresh_from_db()
    return changed == 1


def _audit(claimed: EmailDomain, action: str, *, actor: Membership | None = None) -> None:
    record(
        Event.SSO_SETTINGS_CHANGED,
        actor=actor.user if actor is not None else None,
        organization=claimed.organization,
        detail={"domain": claimed.domain, "domain_action": action},
    )


# --- The operator ---------------------------------------------------------------------------------


def claims_of(domain: str, organization_id: int | None = None) -> list[EmailDomain]:
    """The claims of ``domain`` (A-labels), of one account when ``organization_id`` is given."""
    claims = EmailDomain.objects.select_related("organization").filter(domain=domain)
    if organization_id is not None:
        claims = claims.filter(organization_id=organization_id)
    return list(claims.order_by("pk"))


def verify_by_operator(claimed: EmailDomain) -> bool:
    """``twofold verify-domain``: the operator vouches for a claim without DNS (an internal domain,
    say); periodic checks leave it alone. False when it was verified already; ``Conflict``
    ``domain_taken`` when another account's claim of the domain is."""
    changed = _mark_verified(claimed, VerifiedBy.OPERATOR)
    if changed:
        _audit(claimed, "verified_by_operator")
    return changed


# --- The periodic check ---------------------------------------------------------------------------


class Outcome(enum.Enum):
    VERIFIED = "verified"  # a pending claim whose record appeared
    STILL_VERIFIED = "still_verified"
    MISSED = "missed"  # the record is gone, the claim stays verified for now
    LAPSED = "lapsed"  # gone LAPSE_AFTER times in a row: no longer verified
    PENDING = "pending"
    TAKEN = "taken"  # the record is there, but another account's claim is the verified one
    UNAVAILABLE = "unavailable"  # no answer from DNS: nothing changed
    OPERATOR = "operator"  # vouched for by the operator: not checked


@dataclass
class CheckReport:
    outcomes: Counter[Outcome] = field(default_factory=Counter)

    def line(self) -> str:
        done = ", ".join(f"{count} {o.value}" for o, count in sorted(
            self.outcomes.items(), key=lambda item: item[0].value))  # fmt: skip
        return f"Checked {sum(self.outcomes.values())} claimed domains: {done or 'none'}."


def check_all() -> CheckReport:
    """``twofold check-domains``: every claim once, oldest first."""
    report = CheckReport()
    for claimed in EmailDomain.objects.select_related("organization").order_by("pk").iterator():
        report.outcomes[check(claimed)] += 1
    return report


def check(claimed: EmailDomain) -> Outcome:
    """Re-check one claim; each change is one conditional update, so that concurrent checks (two
    cron jobs, an administrator's "Verify") never undo each other."""
    if claimed.verified_by == VerifiedBy.OPERATOR and claimed.verified:
        return Outcome.OPERATOR
    try:
        published = record_published(claimed)
    except dns_txt.DnsUnavailable:
        return Outcome.UNAVAILABLE
    if not claimed.verified:
        return _check_pending(claimed, published)
    now = clock.now()
    verified = EmailDomain.objects.filter(pk=claimed.pk, verified_at__isnull=False)
    if published:
        verified.update(checked_at=now, missed_checks=0)
        return Outcome.STILL_VERIFIED
    verified.update(checked_at=now, missed_checks=F("missed_checks") + 1)
    return _lapse_if_gone_too_long(claimed, now)


def _check_pending(claimed: EmailDomain, published: bool) -> Outcome:
    if not published:
        return Outcome.PENDING
    try:
        changed = _mark_verified(claimed, VerifiedBy.DNS)
    except Conflict:
        return Outcome.TAKEN
    if changed:
        _audit(claimed, "verified")
    return Outcome.VERIFIED


def _lapse_if_gone_too_long(claimed: EmailDomain, now: datetime) -> Outcome:
    lapsed = EmailDomain.objects.filter(
        pk=claimed.pk, verified_at__isnull=False, missed_checks__gte=LAPSE_AFTER
    ).update(verified_at=None, verified_by="", missed_checks=0, checked_at=now)
    if not lapsed:
        return Outcome.MISSED
    _audit(claimed, "verification_lapsed")
    return Outcome.LAPSED
