"""An administrator's single sign-on settings ("Account & Security" → "Single sign-on", and the
JSON API): how far Google and Microsoft sign-ins are trusted, the Entra tenants allowed,
"Require SSO", and the email domains the account claims.

Only administrators; read through ``of(organization)``; every change is audited
(``sso.settings_changed``). Values arrive checked by the forms of ``sso/forms.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, NotFound
from twofold.organizations.models import Membership, Organization, require_administrator
from twofold.sso import connections
from twofold.sso.connections import changes, values_of
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection

SETTINGS_FIELDS = ("trust", "mfa_contexts", "when_mfa_missing", "microsoft_tenants", "require_sso")
NO_SUCH_DOMAIN = gettext_lazy("There is no such domain in this account.")
DOMAIN_TAKEN = gettext_lazy("This domain is already claimed by another account.")
ALREADY_CLAIMED = gettext_lazy("This account already claims this domain.")


# --- Google / Microsoft, and "Require SSO" -------------------------------------------------------


def settings_of(organization: Organization) -> AccountSso:
    """The account's settings; the defaults (unsaved) until an administrator first saves them."""
    return AccountSso.objects.of(organization).first() or AccountSso(organization=organization)


def sso_settings(actor: Membership) -> AccountSso:
    require_administrator(actor)
    return settings_of(actor.organization)


def change_settings(actor: Membership, fields: Mapping[str, Any]) -> AccountSso:
    require_administrator(actor)
    with transaction.atomic():
        # Locked: two administrators saving the first settings at once create one row.
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        current = settings_of(organization)
        before = values_of(current, SETTINGS_FIELDS)
        for field in SETTINGS_FIELDS:
            setattr(current, field, fields[field])
        current.save()
    changed = changes(before, values_of(current, SETTINGS_FIELDS))
    if changed:
        record(
            Event.SSO_SETTINGS_CHANGED, actor=actor.user, organization=organization, detail=changed
        )
    return current


# --- Email domains -------------------------------------------------------------------------------


def list_domains(actor: Membership) -> list[EmailDomain]:
    require_administrator(actor)
    return list(
        EmailDomain.objects.of(actor.organization).select_related("connection").order_by("domain")
    )


def get_domain(actor: Membership, domain_id: int) -> EmailDomain:
    require_administrator(actor)
    try:
        return (
            EmailDomain.objects.of(actor.organization)
            .select_related("connection")
            .get(pk=domain_id)
        )
    except EmailDomain.DoesNotExist:
        raise NotFound(NO_SUCH_DOMAIN) from None


def _connection(actor: Membership, connection_id: int | None) -> SamlConnection | None:
    if connection_id is None:
        return None
    try:
        return connections.get_connection(actor, connection_id)
    except NotFound as error:
        error.param = "connection"
        raise


def add_domain(
    actor: Membership, domain: str, *, connection_id: int | None, just_in_time: bool
) -> EmailDomain:
    """Claim ``domain`` (normalized by the form) for the account, pending until verified
    (sso/domain_verification.py): a claim alone routes nobody and lets nobody join. Refused when
    this account claims it already, or another account's claim of it is verified."""
    require_administrator(actor)
    claimed = EmailDomain(
        organization=actor.organization,
        domain=domain,
        connection=_connection(actor, connection_id),
        just_in_time=just_in_time,
    )
    if (
        EmailDomain.objects.verified()
        .filter(domain=domain)
        .exclude(organization=actor.organization)
    ):
        # Never say which account: that would tell one customer who another's is.
        raise Conflict(DOMAIN_TAKEN, code="domain_taken", param="domain")
    try:
        with transaction.atomic():
            claimed.save()
    except IntegrityError:  # sso_one_claim_per_account_and_domain, also under a race
        raise Conflict(ALREADY_CLAIMED, code="domain_claimed", param="domain") from None
    _record_domain(actor, claimed, "added")
    return claimed


def change_domain(
    actor: Membership, domain_id: int, *, connection_id: int | None, just_in_time: bool
) -> EmailDomain:
    claimed = get_domain(actor, domain_id)
    before = _state(claimed)
    claimed.connection = _connection(actor, connection_id)
    claimed.just_in_time = just_in_time
    claimed.save(update_fields=["connection", "just_in_time"])
    after = _state(claimed)
    if before != after:
        _record_domain(actor, claimed, "changed", changes(before, after))
    return claimed


def remove_domain(actor: Membership, domain_id: int) -> EmailDomain:
    claimed = get_domain(actor, domain_id)
    claimed.delete()
    _record_domain(actor, claimed, "removed")
    return claimed


def _state(claimed: EmailDomain) -> dict[str, Any]:
    connection = claimed.connection
    return {
        "connection_id": connection.pk if connection else None,
        "connection": connection.name if connection else None,
        "just_in_time": claimed.just_in_time,
    }


def _record_domain(
    actor: Membership, claimed: EmailDomain, action: str, changed: dict[str, Any] | None = None
) -> None:
    detail: dict[str, Any] = {"domain": claimed.domain, "domain_action": action}
    if changed is None:
        changed = _state(claimed)
    record(
        Event.SSO_SETTINGS_CHANGED,
        actor=actor.user,
        organization=actor.organization,
        detail={**detail, **changed},
    )
