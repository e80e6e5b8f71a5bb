"""Remembered browsers: "Remember this device for 30 days" on the second-factor step."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RememberedDevice(models.Model):
    """A browser whose next sign-ins skip the second step (``signin/remembered.py``).

    The browser keeps a random token in a cookie; the database keeps only its SHA-256 (256 bits
    from the CSPRNG: a plain hash suffices, ASVS 6.5.2), with the member's factors as they were
    (``factors``): once those change, the device no longer counts.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remembered_devices"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    factors = models.CharField(max_length=64, help_text="keyed hash of the member's factors")
    device = models.CharField(max_length=100, help_text='e.g. "Firefox on Windows"')
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.device} of {self.user}"
