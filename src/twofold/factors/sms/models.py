"""The SMS factor, the codes sent for it, and an enrollment in progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SmsFactor(models.Model):
    """An active SMS second factor: exists only once enrollment completed (never half-active)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_factor"
    )
    phone = models.CharField(max_length=20, help_text="E.164; needed in clear to send texts")
    enabled_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"SMS factor of user {self.user_id}"


class PendingSmsEnrollment(models.Model):
    """A number being confirmed, for a new factor or a change of number. Deleted when done."""

    class Purpose(models.TextChoices):
        ENROLL = "enroll"
        CHANGE_NUMBER = "change_number"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_sms_enrollment"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    phone = models.CharField(max_length=20)
    binding = models.CharField(max_length=64, help_text="the codes sent for this enrollment")
    created_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"{self.purpose} of user {self.user_id}"

    @property
    def backup_codes_label(self) -> str:
        """What marks the backup codes shown for this enrollment (its binding is unique to it)."""
        return f"sms:{self.binding}"


class SmsCode(models.Model):
    """One code sent by SMS. Only its HMAC is kept; it is bound to one login or enrollment."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20)
    # The login (or enrollment) this code was sent for: a code of another login never matches
    # (ASVS 6.6.2).
    binding = models.CharField(max_length=64)
    code_hmac = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

    class Meta:
        app_label = "factors"
        indexes = [models.Index(fields=["user", "purpose", "binding"])]

    def __str__(self) -> str:
        return f"{self.purpose} code of user {self.user_id}"
