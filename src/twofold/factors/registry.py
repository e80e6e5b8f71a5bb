"""The one small interface over all second factors: is one enabled, and which."""

from __future__ import annotations

from twofold.factors.sms.models import SmsFactor
from twofold.users.models import User


def has_second_factor(user: User) -> bool:
    return SmsFactor.objects.filter(user=user).exists()
