"""An administrator's SAML connections ("Account & Security" → "Single sign-on", and the JSON
API): create from the identity provider's values (checked by ``sso/forms.py``), change, delete.

Only administrators; read through ``of(organization)``, so another account's connection does not
exist for them (404). Every change is audited; a certificate by its fingerprint, never its text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict, NotFound
from twofold.organizations.models import Membership, require_administrator
from twofold.sso.idp_metadata import describe_pem
from twofold.sso.models import SamlConnection

CONNECTION_FIELDS = (
    "name",
    "idp_entity_id",
    "idp_sso_url",
    "idp_certificate",
    "allow_idp_initiated",
    "trust",
    "mfa_contexts",
    "when_mfa_missing",
)
NO_SUCH_CONNECTION = gettext_lazy("There is no such connection in this account.")
SAME_IDP = gettext_lazy(
    "This account already has a connection to this identity provider (same entity id)."
)


def values_of(instance: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: getattr(instance, field) for field in fields}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed, for the audit log; a certificate by its fingerprint, never its text."""
    changed = {}
    for key, old in before.items():
        new = after[key]
        if old == new:
            continue
        if key == "idp_certificate":
            key, old, new = "certificate_sha256", fingerprint(old), fingerprint(new)
        changed[key] = {"from": old, "to": new}
    return changed


def fingerprint(pem: str) -> str:
    facts = describe_pem(pem) if pem else None
    return facts.sha256 if facts else ""


def list_connections(actor: Membership) -> list[SamlConnection]:
    require_administrator(actor)
    return list(SamlConnection.objects.of(actor.organization).order_by("name", "pk"))


def get_connection(actor: Membership, connection_id: int) -> SamlConnection:
    """A connection of the actor's own account; others do not exist for the actor."""
    require_administrator(actor)
    try:
        return SamlConnection.objects.of(actor.organization).get(pk=connection_id)
    except SamlConnection.DoesNotExist:
        raise NotFound(NO_SUCH_CONNECTION) from None


def create_connection(
    actor: Membership, fields: Mapping[str, Any], *, slug: str | None = None
) -> SamlConnection:
    """A new connection; at ``slug`` (its addresses, shown before it existed) when still free."""
    require_administrator(actor)
    connection = SamlConnection(
        organization=actor.organization, **{field: fields[field] for field in CONNECTION_FIELDS}
    )
    if slug and not SamlConnection.objects.filter(slug=slug).exists():
        connection.slug = slug
    _save(connection)
    detail = {
        "connection": connection.name,
        "idp_entity_id": connection.idp_entity_id,
        "certificate_sha256": fingerprint(connection.idp_certificate),
    }
    record(
        Event.SSO_CONNECTION_CREATED,
        actor=actor.user,
        organization=actor.organization,
        detail=detail,
    )
    return connection


def change_connection(
    actor: Membership, connection_id: int, fields: Mapping[str, Any]
) -> SamlConnection:
    connection = get_connection(actor, connection_id)
    before = values_of(connection, CONNECTION_FIELDS)
    for field in CONNECTION_FIELDS:
        setattr(connection, field, fields[field])
    _save(connection)
    changed = changes(before, values_of(connection, CONNECTION_FIELDS))
    if changed:
        record(
            Event.SSO_CONNECTION_CHANGED,
            actor=actor.user,
            organization=actor.organization,
            detail={"connection": connection.name, **changed},
        )
    return connection


def _save(connection: SamlConnection) -> None:
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:  # sso_one_connection_per_idp
        raise Conflict(SAME_IDP, code="connection_exists", param="idp_entity_id") from None


def delete_connection(actor: Membership, connection_id: int) -> SamlConnection:
    """Delete the connection and its members' links: a new connection to the same identity
    provider gets a new slug, so the old links could never sign anyone in again. Its domains
    stay claimed, without a connection."""
    connection = get_connection(actor, connection_id)
    with transaction.atomic():
        links = SocialAccount.objects.filter(provider=connection.provider_id)
        removed = links.count()
        links.delete()
        connection.delete()
    record(
        Event.SSO_CONNECTION_DELETED,
        actor=actor.user,
        organization=actor.organization,
        detail={"connection": connection.name, "links_removed": removed},
    )
    return connection


def linked_members(connection: SamlConnection) -> int:
    return SocialAccount.objects.filter(provider=connection.provider_id).count()
