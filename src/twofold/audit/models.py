"""Append-only security events, one organization each.

Rows are written once and never changed: saving an existing row, and bulk updates, raise. The
only way rows leave is the retention purge (:func:`twofold.audit.retention.purge`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext

from twofold.audit.events import Event
from twofold.audit.wording import factor_words, level_words


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit event outside the retention purge."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def of(self, organization: Any) -> AuditEventQuerySet:
        return self.filter(organization=organization)

    def about(self, user: Any) -> AuditEventQuerySet:
        """Events where the user acted or was acted upon."""
        return self.filter(models.Q(subject=user) | models.Q(actor=user))

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events leave only through the retention purge.")

    def _purge_before(self, cutoff: datetime) -> int:
        return models.QuerySet.delete(self.filter(created_at__lt=cutoff))[0]


class AuditEvent(models.Model):
    created_at = models.DateTimeField(db_index=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the index below starts with organization
    )
    # An Event value; no DB choices, so naming a new event needs no migration.
    event = models.CharField(max_length=40)
    # Who did it, and to whom; the emails stay readable after a user is gone.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_email = models.CharField(max_length=254, blank=True)
    # "password", "sms", "backup_code", "google", ...: the factor a sign-in event is about.
    factor = models.CharField(max_length=30, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Facts without secrets: masked numbers, roles, reasons, gateway names.
    detail = models.JSONField(default=dict)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.event} {self.subject_email}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events leave only through the retention purge.")

    @property
    def label(self) -> str:
        try:
            return str(Event(self.event).label)
        except ValueError:
            return self.event

    @property
    def factor_label(self) -> str:
        """The factors in people's words ("Password and text message"), for the pages."""
        return factor_words(self.factor or "")

    @property
    def detail_lines(self) -> list[str]:
        """The details as "key: value" lines for people; a change reads "from A to B"."""
        return [_detail_line(key, value) for key, value in self.detail.items()]


def _detail_line(key: str, value: Any) -> str:
    if key == "aal" and isinstance(value, str):
        return gettext("Assurance: %(level)s") % {"level": level_words(value)}
    return f"{key.replace('_', ' ')}: {_readable(value)}"


def _readable(value: Any) -> str:
    if isinstance(value, dict) and value.keys() == {"from", "to"}:
        return f"from {_readable(value['from'])} to {_readable(value['to'])}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    return str(value)
