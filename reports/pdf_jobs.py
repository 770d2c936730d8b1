"""The unit MAR PDF jobs as a person reads them: one row per job, decided here."""

import calendar
import datetime
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from accounts.models import Facility

from .models import JobState, MarPdfJob

# A queued job no worker has started after this long: the page says the worker may be down.
WAITING_TOO_LONG = datetime.timedelta(seconds=30)


@dataclass(frozen=True)
class JobRow:
    pk: int
    title: str  # "North Wing · January 2026"
    unit: str
    month: str
    month_param: str  # "2026-01", for links back to the month
    state: str
    state_label: str
    tone: str  # badge colour: ok / warn / bad / info
    progress: str  # "12 of 20 residents"
    percent: int
    detail: str  # the sentence under the state
    requested_by: str
    requested_at: datetime.datetime
    finished_at: datetime.datetime | None
    download_url: str
    size: str
    is_open: bool


def job_list(*, facility: Facility):
    """The facility's jobs, newest first, without their PDFs' bytes."""
    return (
        MarPdfJob.objects.filter(facility=facility)
        .select_related("unit", "requested_by")
        .defer("pdf")
        .order_by("-requested_at", "-pk")
    )


def job_row(job: MarPdfJob, *, now: datetime.datetime | None = None) -> JobRow:
    now = now or timezone.now()
    month = f"{calendar.month_name[job.month]} {job.year}"
    total, done = job.residents_total, job.residents_done
    progress = (
        f"{done} of {total} resident{'' if total == 1 else 's'}"
        if job.state in (JobState.RUNNING, JobState.DONE) and total
        else ""
    )
    detail, tone = {
        JobState.QUEUED: ("Waiting for the background worker to start it.", "info"),
        JobState.RUNNING: ("Each resident's pages are laid out in turn.", "info"),
        JobState.DONE: ("Ready to open or download.", "ok"),
        JobState.FAILED: (job.error or "The PDF could not be built.", "bad"),
    }[JobState(job.state)]
    if job.state == JobState.QUEUED and now - job.requested_at > WAITING_TOO_LONG:
        tone = "warn"
        detail = (
            "No worker has started it yet: the background worker may be stopped or busy. It "
            "starts as soon as one is free; if nothing happens in a few minutes, tell your "
            "administrator. A single resident's PDF prints at once from their MAR page."
        )
    if job.state == JobState.DONE and not total:
        detail = "Ready: nobody was on this unit's MAR that month."
    return JobRow(
        pk=job.pk,
        title=f"{job.unit.name} · {month}",
        unit=job.unit.name,
        month=month,
        month_param=f"{job.year:04d}-{job.month:02d}",
        state=job.state,
        state_label=job.get_state_display(),
        tone=tone,
        progress=progress,
        percent=round(100 * done / total) if total else 0,
        detail=detail,
        requested_by=job.requested_by.get_full_name() or job.requested_by.username,
        requested_at=job.requested_at,
        finished_at=job.finished_at,
        download_url=reverse("mar_pdf_job_download", args=[job.pk])
        if job.state == JobState.DONE
        else "",
        size=f"{max(1, round(job.pdf_bytes / 1024))} KB" if job.pdf_bytes else "",
        is_open=job.is_open,
    )
