"""Members as their colleagues see them: the listing of an account's members, with each one's
second factors for administrators (read in the same query). No HTTP."""

from __future__ import annotations

from twofold.factors import member_factors
from twofold.organizations.models import Membership, require_administrator


def list_members(actor: Membership, *, without_two_factor: bool = False) -> list[Membership]:
    """The actor's colleagues by email; for administrators with their 2FA, in the same query.

    Only administrators learn who has no 2FA: to anyone else it says whom to phish first.
    """
    members = Membership.objects.of(actor.organization).select_related("user")
    if without_two_factor:
        require_administrator(actor)
        members = members.exclude(user__in=member_factors.users_with_second_factor())
    if actor.is_administrator:
        members = member_factors.with_summaries(members)
    return list(members.order_by("user__email"))


def two_factor_of(actor: Membership, target: Membership) -> member_factors.FactorSummary | None:
    """What the actor may see of a colleague's 2FA: administrators a summary, others nothing."""
    return member_factors.summary(target) if actor.is_administrator else None
