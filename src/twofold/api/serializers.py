"""JSON shapes of our resources; the OpenAPI spec (api/openapi.yaml) describes the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.utils import translation

from twofold.audit.models import AuditEvent
from twofold.factors.member_factors import FactorSummary
from twofold.organizations import language
from twofold.organizations.models import Invitation, Membership, Organization
from twofold.sessions import assurance
from twofold.users.models import User


def organization(org: Organization) -> dict[str, Any]:
    return {
        "id": org.pk,
        "name": org.name,
        "default_country": org.default_country,
        "default_language": org.default_language or None,
    }


def preferences(user: User) -> dict[str, Any]:
    """``/api/v1/me/preferences``: the member's choice, and the language Twofold speaks to them."""
    chosen = language.chosen_language(user)
    return {
        "language": user.language or None,
        "effective_language": chosen or translation.get_language(),
    }


def signed_in_as(m: Membership, session: SessionBase | Mapping[str, Any]) -> dict[str, Any]:
    """``GET /api/v1/me``: who is signed in, how (AMR) and how strongly (AAL)."""
    return signed_in(
        user_id=m.user.pk,
        email=m.user.email,
        organization_id=m.organization_id,
        organization_name=m.organization.name,
        role=m.role,
        session=session,
    )


def signed_in(
    *,
    user_id: int,
    email: str,
    organization_id: int,
    organization_name: str,
    role: str,
    session: SessionBase | Mapping[str, Any],
) -> dict[str, Any]:
    """:func:`signed_in_as` from plain values (the session check's short path reads no models)."""
    recorded = assurance.records_of_user_id(session, user_id)
    return {
        "user": {"id": user_id, "email": email},
        "organization": {"id": organization_id, "name": organization_name},
        "role": role,
        "amr": assurance.amr(recorded),
        "aal": assurance.session_level(recorded),
    }


def member(m: Membership, factors: FactorSummary | None = None) -> dict[str, Any]:
    """``factors``: the member's 2FA, shown to administrators only (None: ``two_factor`` null)."""
    return {
        "id": m.pk,
        "email": m.user.email,
        "name": m.user.name,
        "role": m.role,
        "is_active": m.user.is_active,
        "joined_at": m.created_at.isoformat(),
        "last_login": m.user.last_login.isoformat() if m.user.last_login else None,
        "two_factor": None if factors is None else two_factor_summary(factors),
    }


def two_factor_summary(factors: FactorSummary) -> dict[str, Any]:
    return {
        "enabled": factors.enabled,
        "method": factors.method,
        "methods": list(factors.methods),
        "masked_phone": factors.masked_phone,
        "backup_codes_left": factors.backup_codes_left,
    }


def invitation(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "email": i.email,
        "role": i.role,
        "created_at": i.created_at.isoformat(),
        "expires_at": i.expires_at.isoformat(),
    }


def audit_event(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "created_at": e.created_at.isoformat(),
        "event": e.event,
        "label": e.label,
        "actor_email": e.actor_email or None,
        "subject_email": e.subject_email or None,
        "factor": e.factor or None,
        "ip": e.ip,
        "user_agent": e.user_agent or None,
        "detail": e.detail,
    }
