"""All second-factor models, in one app (one migration history); each module owns its own."""

from twofold.factors.backup_codes.models import BackupCode
from twofold.factors.lockout import SecondFactorFailures
from twofold.factors.preference import PreferredFactor
from twofold.factors.sms.models import PendingSmsEnrollment, SmsCode, SmsFactor

__all__ = [
    "BackupCode",
    "PendingSmsEnrollment",
    "PreferredFactor",
    "SecondFactorFailures",
    "SmsCode",
    "SmsFactor",
]
