"""Which second factor a member with several wants to be asked for first at sign-in: choosing it
(pages and API). Absent a choice, the strongest comes first (``member_factors.preferred``)."""

from __future__ import annotations

from django.utils.translation import gettext

from twofold.audit.events import Event
from twofold.audit.record import record
from twofold.errors import Conflict
from twofold.factors import member_factors
from twofold.factors.models import PreferredFactor
from twofold.users.models import User


def set_preferred(user: User, method: str) -> str:
    """The factor asked for first at sign-in; one the member has."""
    if method not in member_factors.methods(user):
        raise Conflict(
            gettext("Choose one of the two-factor methods you have set up."),
            code="factor_missing",
            param="method",
        )
    PreferredFactor.objects.update_or_create(user=user, defaults={"method": method})
    record(Event.PREFERRED_FACTOR_CHANGED, subject=user, factor=method)
    return method
