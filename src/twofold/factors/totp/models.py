"""What Twofold keeps beside allauth's ``Authenticator`` of an authenticator app."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db import models


class TotpLastStep(models.Model):
    """The newest time step whose code the app had accepted (RFC 6238 section 5.2).

    In the database with the factor, not in the cache: replay protection must survive a flushed,
    restarted or replaced cache. allauth's ``Authenticator`` is allauth's model, so the step is
    a row of its own, deleted with the app (a new app starts afresh).
    """

    authenticator = models.OneToOneField(
        Authenticator, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    step = models.BigIntegerField(help_text="Unix time // TOTP period of the last code accepted")

    class Meta:
        app_label = "factors"

    def __str__(self) -> str:
        return f"last step {self.step} of authenticator {self.authenticator_id}"
