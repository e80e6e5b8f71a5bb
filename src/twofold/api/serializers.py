"""JSON shapes of our resources; the OpenAPI spec (api/openapi.yaml) describes the same."""

from __future__ import annotations

from typing import Any

from twofold.organizations.models import Invitation, Membership, Organization


def organization(org: Organization) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "default_country": org.default_country}


def member(m: Membership) -> dict[str, Any]:
    return {
        "id": m.pk,
        "email": m.user.email,
        "name": m.user.name,
        "role": m.role,
        "is_active": m.user.is_active,
        "joined_at": m.created_at.isoformat(),
        "last_login": m.user.last_login.isoformat() if m.user.last_login else None,
    }


def invitation(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "email": i.email,
        "role": i.role,
        "created_at": i.created_at.isoformat(),
        "expires_at": i.expires_at.isoformat(),
    }
