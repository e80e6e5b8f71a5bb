"""The state of a member's two-factor authentication as a whole, as the settings page and the API
show it: which factors, the number, backup codes left, whether the account requires it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from twofold.factors import member_factors, policy
from twofold.factors.backup_codes import flows as backup_codes
from twofold.factors.methods import SMS
from twofold.factors.sms.models import SmsFactor
from twofold.sms.numbers import mask
from twofold.users.models import User


@dataclass(frozen=True)
class Status:
    """What the settings page and ``GET /api/v1/two-factor`` show: 2FA as a whole, and SMS."""

    enabled: bool  # any second factor
    masked_phone: str | None
    enabled_at: datetime | None
    last_used_at: datetime | None
    backup_codes_left: int
    required: bool
    methods: tuple[str, ...] = ()  # strongest first
    preferred: str | None = None

    @property
    def sms(self) -> bool:
        return SMS in self.methods

    @property
    def few_backup_codes_left(self) -> bool:
        return self.enabled and self.backup_codes_left <= backup_codes.FEW_LEFT


def status(user: User) -> Status:
    factor = SmsFactor.objects.filter(user=user).first()
    methods = member_factors.methods(user)
    return Status(
        enabled=bool(methods),
        masked_phone=mask(factor.phone) if factor else None,
        enabled_at=factor.enabled_at if factor else None,
        last_used_at=factor.last_used_at if factor else None,
        backup_codes_left=backup_codes.remaining(user) if methods else 0,
        required=policy.two_factor_required(user),
        methods=tuple(methods),
        preferred=member_factors.preferred(user, methods),
    )
