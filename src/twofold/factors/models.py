"""All second-factor models, in one app (one migration history): each factor's module owns its
own; the preferred factor, which concerns them all, is here."""

from django.conf import settings
from django.db import models

from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.lockout import SecondFactorFailures
from twofold.factors.sms.models import PendingSmsEnrollment, SmsCode, SmsFactor
from twofold.factors.totp.models import TotpLastStep

__all__ = [
    "BackupCode",
    "PendingSmsEnrollment",
    "PreferredFactor",
    "SecondFactorFailures",
    "SmsCode",
    "SmsFactor",
    "TotpLastStep",
]


class PreferredFactor(models.Model):
    """Absent: the strongest factor the member has comes first (``member_factors.preferred``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferred_factor"
    )
    method = models.CharField(max_length=20)

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"{self.method}, preferred by user {self.user_id}"
