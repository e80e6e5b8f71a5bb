"""Who may sign in to an application: active members of its account (any member for an
instance-wide application)."""

from __future__ import annotations

from twofold.idp.models import Application
from twofold.organizations.models import membership_of
from twofold.users.models import User


def may_sign_in(application: Application, user: User) -> bool:
    if not user.is_active:
        return False
    membership = membership_of(user)
    if membership is None:
        return False
    return application.organization_id is None or (
        membership.organization_id == application.organization_id
    )
