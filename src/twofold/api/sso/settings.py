"""The account's single sign-on in the JSON API (administrators): the same flows and forms as
the "Single sign-on" pages. A PATCH changes only the fields it names.

Every change needs the administrator's recent authentication (ASVS 7.5.1): 401
``reauthentication_required`` otherwise; reading does not."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from twofold.api import responses
from twofold.api.endpoint import Call, endpoint
from twofold.organizations.models import require_administrator
from twofold.sso import connections as connection_flows
from twofold.sso import domain_verification, saml, settings_flows
from twofold.sso.forms import (
    ConnectionForm,
    EmailDomainChangeForm,
    EmailDomainForm,
    SsoSettingsForm,
)
from twofold.sso.idp_metadata import describe_pem
from twofold.sso.models import AccountSso, EmailDomain, SamlConnection


def _settings(sso: AccountSso) -> dict[str, Any]:
    return {field: getattr(sso, field) for field in settings_flows.SETTINGS_FIELDS}


def _connection(request: HttpRequest, connection: SamlConnection) -> dict[str, Any]:
    certificate = describe_pem(connection.idp_certificate)
    sp = saml.service_provider(request, connection)
    return {
        "id": connection.pk,
        **{field: getattr(connection, field) for field in connection_flows.CONNECTION_FIELDS},
        "certificate": {
            "subject": certificate.subject,
            "not_after": certificate.not_after.isoformat(),
            "sha256": certificate.sha256,
        }
        if certificate
        else None,
        "service_provider": {
            "entity_id": sp.entity_id,
            "acs_url": sp.acs_url,
            "metadata_url": sp.metadata_url,
        },
        "provider_id": connection.provider_id,
        "created_at": connection.created_at.isoformat(),
    }


def _domain(claimed: EmailDomain) -> dict[str, Any]:
    return {
        "id": claimed.pk,
        "domain": claimed.domain,
        "connection": claimed.connection_id,
        "just_in_time": claimed.just_in_time,
        # Until verified, the claim routes nobody and lets nobody join (docs/sso.md).
        "verified": claimed.verified,
        "verified_at": claimed.verified_at.isoformat() if claimed.verified_at else None,
        "verification": {"type": "TXT", "name": claimed.domain, "value": claimed.txt_record},
    }


@endpoint("GET", "PATCH")
def sso_settings(call: Call) -> HttpResponse:
    actor = call.membership
    current = settings_flows.sso_settings(actor)  # a member hears 403, whatever the body
    if call.request.method == "PATCH":
        call.require_fresh()
        data = call.validated(SsoSettingsForm, _settings(current))
        current = settings_flows.change_settings(actor, data)
    return responses.ok(_settings(current))


@endpoint("GET", "POST")
def connections(call: Call) -> HttpResponse:
    actor = call.membership
    require_administrator(actor)
    if call.request.method == "POST":
        call.require_fresh()
        data = call.validated(ConnectionForm, _connection_defaults(SamlConnection()))
        created = connection_flows.create_connection(actor, data)
        return responses.ok(_connection(call.request, created), status=201)
    listed = connection_flows.list_connections(actor)
    return responses.ok([_connection(call.request, c) for c in listed])


def _connection_defaults(connection: SamlConnection) -> dict[str, Any]:
    return {field: getattr(connection, field) for field in connection_flows.CONNECTION_FIELDS}


@endpoint("GET", "PATCH", "DELETE")
def connection(call: Call, connection_id: int) -> HttpResponse:
    actor = call.membership
    found = connection_flows.get_connection(actor, connection_id)  # 403, then 404
    if call.request.method != "GET":
        call.require_fresh()
    if call.request.method == "DELETE":
        connection_flows.delete_connection(actor, connection_id)
        return HttpResponse(status=204)
    if call.request.method == "PATCH":
        data = call.validated(ConnectionForm, _connection_defaults(found))
        found = connection_flows.change_connection(actor, connection_id, data)
    return responses.ok(_connection(call.request, found))


@endpoint("GET", "POST")
def domains(call: Call) -> HttpResponse:
    actor = call.membership
    require_administrator(actor)
    if call.request.method == "POST":
        call.require_fresh()
        data = call.validated(EmailDomainForm)
        claimed = settings_flows.add_domain(
            actor,
            data["domain"],
            connection_id=data["connection"],
            just_in_time=data["just_in_time"],
        )
        return responses.ok(_domain(claimed), status=201)
    return responses.ok([_domain(d) for d in settings_flows.list_domains(actor)])


@endpoint("PATCH", "DELETE")
def domain(call: Call, domain_id: int) -> HttpResponse:
    actor = call.membership
    found = settings_flows.get_domain(actor, domain_id)  # 403, then 404
    call.require_fresh()
    if call.request.method == "DELETE":
        settings_flows.remove_domain(actor, domain_id)
        return HttpResponse(status=204)
    defaults = {"connection": found.connection_id, "just_in_time": found.just_in_time}
    data = call.validated(EmailDomainChangeForm, defaults)
    changed = settings_flows.change_domain(
        actor,
        domain_id,
        connection_id=data["connection"],
        just_in_time=data["just_in_time"],
    )
    return responses.ok(_domain(changed))


@endpoint("POST")
def domain_verification_check(call: Call, domain_id: int) -> HttpResponse:
    """Look for the domain's TXT record now: 200 with the verified domain; 409
    ``domain_record_missing`` or ``domain_taken``, 503 ``dns_unavailable``."""
    actor = call.membership
    settings_flows.get_domain(actor, domain_id)  # 403, then 404
    call.require_fresh()
    return responses.ok(_domain(domain_verification.verify_domain(actor, domain_id)))
