"""The one thing `reports` stores: a unit's monthly MAR PDF, built by a worker.

A unit's month is 20 or more residents' grids, about a second of layout each: too long for a page
request. The request leaves a `MarPdfJob` row (queued); a Celery worker builds the PDF and keeps
its progress and then its bytes on the row. The bytes live in PostgreSQL, not under MEDIA: web
and worker processes share the database wherever they run (no shared disk is assumed), the
facility scoping of the row covers the file too, and old jobs are deleted with their PDFs. A
job is a product built from the record, not care documentation: it is not audited.
"""

import datetime

from django.conf import settings
from django.db import models

from accounts.models import Facility, Unit


class JobState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Being built"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


OPEN_STATES = (JobState.QUEUED, JobState.RUNNING)
# An open job that has not moved for this long was lost (worker stopped, broker down when it was
# sent): asking again replaces it.
STALE_AFTER = datetime.timedelta(minutes=10)
# Finished jobs (and their PDFs) are deleted this long after they finished.
KEEP_FOR = datetime.timedelta(days=30)


class MarPdfJob(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moved on at every step (claimed, each resident): an open job it leaves behind is stale.
    updated_at = models.DateTimeField()
    residents_done = models.PositiveIntegerField(default=0)
    residents_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # what the page says when the build failed
    pdf = models.BinaryField(null=True, blank=True)
    pdf_bytes = models.PositiveIntegerField(default=0)  # the size, without loading the bytes

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # The same unit and month asked for again while one is built reuses it.
            models.UniqueConstraint(
                fields=["facility", "unit", "year", "month"],
                condition=models.Q(state__in=OPEN_STATES),
                name="mar_pdf_job_one_open_per_unit_month",
            ),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="mar_pdf_job_month_valid"
            ),
        ]
        indexes = [models.Index(fields=["facility", "-requested_at"], name="mar_pdf_job_recent")]

    def __str__(self) -> str:
        return f"MAR {self.year:04d}-{self.month:02d} {self.unit}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
