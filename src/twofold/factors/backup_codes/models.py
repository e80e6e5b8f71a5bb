"""Backup codes: stored only as salted password hashes (ASVS 6.5.2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BackupCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backup_codes"
    )
    # argon2id with a random salt (Django's password hasher): 65-bit codes are below the
    # 112 bits ASVS 6.5.2 asks for a plain hash.
    code_hash = models.CharField(max_length=200)
    # Pending codes belong to an enrollment or regeneration not yet confirmed; they never work.
    active = models.BooleanField(default=False)
    # The set-up a pending code was shown for ("" once active, and for a regeneration): a reload
    # of that set-up's page shows the same set, never a new one behind the member's back.
    enrollment = models.CharField(max_length=100, blank=True, default="")
    # A pending code itself, encrypted under TWOFOLD_FACTOR_KEY (``totp/crypto.py``) so that it
    # can be shown again until activation; emptied at activation, leaving only the hash.
    sealed = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "factors"
        indexes = [models.Index(fields=["user", "active"])]

    def __str__(self) -> str:
        return f"backup code of user {self.user_id}"
