"""Which second factor a member with several wants to be asked for first at sign-in."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PreferredFactor(models.Model):
    """Absent: the strongest factor the member has comes first (``registry.preferred``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferred_factor"
    )
    method = models.CharField(max_length=20)

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"{self.method}, preferred by user {self.user_id}"
