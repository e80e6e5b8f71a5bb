"""One row per attempt to hand a text to one gateway: the evidence behind send limits and support.

A text is first a ``reserved`` row (its place in the limits, taken before any gateway is asked),
which becomes the ``sent`` row of the gateway that took it, or is deleted when none did.

The full number is never stored here (data minimisation; these rows outlive the factor): a
masked form for people, and an HMAC for counting texts per number (:mod:`twofold.sms.limits`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac

HASH_SALT = "twofold.sms.SmsDelivery.to_hash"


def number_hash(e164: str) -> str:
    """HMAC-SHA256 of the number, keyed from SECRET_KEY.

    A plain hash would not do: there are only about 10^10 numbers per country code, so anyone
    with the table could hash them all; without the key they cannot.
    """
    return salted_hmac(HASH_SALT, e164, algorithm="sha256").hexdigest()


class DeliveryStatus(models.TextChoices):
    # A text's place in the limits, taken before any gateway is asked (sms/reservation.py).
    RESERVED = "reserved", "Reserved"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


# What the daily limits and the resend cooldown count: texts sent, and texts being sent now.
COUNTED = (DeliveryStatus.SENT, DeliveryStatus.RESERVED)


class SmsDelivery(models.Model):
    created_at = models.DateTimeField()
    purpose = models.CharField(max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the limit index below starts with user
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # the limit index below starts with organization
    )
    ip = models.GenericIPAddressField(null=True)
    to_masked = models.CharField(max_length=40)
    to_hash = models.CharField(max_length=64)
    gateway = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    provider_message_id = models.CharField(max_length=128, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        # One index per limit (limits.py counts "sent" rows of the last 24 h per scope).
        indexes = [
            models.Index(fields=["to_hash", "status", "created_at"]),
            models.Index(fields=["user", "status", "created_at"]),
            models.Index(fields=["ip", "status", "created_at"]),
            models.Index(fields=["organization", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.status} via {self.gateway} to {self.to_masked}"
