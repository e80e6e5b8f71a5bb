"""One row per scheduled job: when it is next due and which runner holds its current run."""

from __future__ import annotations

from typing import Any

from django.db import models


class ScheduledJob(models.Model):
    """A job's run is claimed by one conditional UPDATE of this row (scheduler/claims.py): the
    runner that changed it runs the job, every other finds it held or not due."""

    name: models.CharField[str, str] = models.CharField(max_length=40, primary_key=True)
    due_at: models.DateTimeField[Any, Any] = models.DateTimeField()
    # The runner of the run in progress ("" when none); its claim lapses at lease_until unless
    # renewed, so that a runner that died holds nothing for long.
    holder: models.CharField[str, str] = models.CharField(max_length=100, blank=True)
    lease_until: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    last_started_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    last_finished_at: models.DateTimeField[Any, Any] = models.DateTimeField(null=True)
    last_outcome: models.CharField[str, str] = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return f"scheduled job {self.name}"
