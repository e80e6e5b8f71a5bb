"""The one place Twofold reads the time; flows take ``now`` as a parameter (STYLE.md rule 10)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
