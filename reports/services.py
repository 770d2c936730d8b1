"""The one write of `reports`: building a unit's monthly MAR PDF in the background.

`mar_pdf_job_request` leaves the job (or finds the one already under way) and asks a worker for
it once the row is committed; `mar_pdf_job_run` is what the worker does. Sending goes through
`settings.MAR_PDF_QUEUE` (the tests name a function that only remembers the request).
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Facility, Unit, User
from core.errors import DomainError
from core.time import local_month_bounds
from mar.models import Administration, ScheduledDose
from residents.models import Resident, ResidentStatus

from .models import KEEP_FOR, OPEN_STATES, STALE_AFTER, JobState, MarPdfJob
from .pdf import mar_pdf

log = logging.getLogger(__name__)


def unit_mar_residents(*, facility: Facility, unit: Unit, year: int, month: int):
    """Who is on a unit's MAR of the month: present now, or with doses or records in it."""
    start, end = local_month_bounds(year, month, facility.tz)
    had_doses = Exists(
        ScheduledDose.objects.filter(resident=OuterRef("pk"), due_at__gte=start, due_at__lt=end)
    ) | Exists(
        Administration.objects.filter(
            resident=OuterRef("pk"), administered_at__gte=start, administered_at__lt=end
        )
    )
    return (
        Resident.objects.select_related("facility", "unit")
        .prefetch_related("allergies")
        .filter(facility=facility, unit=unit)
        .filter(Q(status=ResidentStatus.ACTIVE) | had_doses)
        .order_by("last_name", "first_name", "pk")
    )


def mar_pdf_job_request(
    *, actor: User, facility: Facility, unit: Unit, year: int, month: int
) -> tuple[MarPdfJob, bool]:
    """(the job, whether it is new). The same unit and month asked for while one is queued or
    being built returns that one; otherwise a new job is queued and sent to a worker after the
    commit. A broker that is down does not fail the request: the job stays queued and its page
    says that it waits for a worker. The facility's jobs finished more than KEEP_FOR ago are
    deleted with their PDFs (a PDF is a copy of the record, made again at any time)."""
    if unit.facility_id != facility.pk:
        raise DomainError("Choose one of this facility's units.", field="unit")
    if not 1 <= month <= 12:
        raise DomainError("Choose a month.", field="month")
    key = {"facility": facility, "unit": unit, "year": year, "month": month}
    now = timezone.now()
    existing = MarPdfJob.objects.filter(**key, state__in=OPEN_STATES).defer("pdf").first()
    if existing is not None and existing.updated_at > now - STALE_AFTER:
        return existing, False
    try:
        with transaction.atomic():
            if existing is not None:
                MarPdfJob.objects.filter(pk=existing.pk, state__in=OPEN_STATES).update(
                    state=JobState.FAILED,
                    finished_at=now,
                    updated_at=now,
                    error="No worker finished this PDF (the background worker may have been "
                    "stopped); it was asked for again.",
                )
            job = MarPdfJob.objects.create(
                **key, requested_by=actor, requested_at=now, updated_at=now
            )
    except IntegrityError:  # someone asked for the same at the same moment: theirs it is
        return MarPdfJob.objects.get(**key, state__in=OPEN_STATES), False
    MarPdfJob.objects.filter(facility=facility, finished_at__lt=now - KEEP_FOR).delete()
    transaction.on_commit(lambda: _send(job.pk))
    return job, True


def _send(job_id: int) -> None:
    try:
        import_string(settings.MAR_PDF_QUEUE)(job_id)
    except Exception:  # the page says the job waits for a worker
        log.warning("Could not queue MAR PDF job %s", job_id, exc_info=True)


def mar_pdf_job_run(*, job_id: int) -> None:
    """Build the job's PDF, keeping its progress on the row as each resident is laid out.

    Safe to run twice and at once: only the run that moves the row from queued to running
    builds it (a redelivered task finds it running or done and does nothing). Progress is
    committed resident by resident, outside any long transaction, so the page sees it.
    """
    now = timezone.now()
    claimed = MarPdfJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return
    job = MarPdfJob.objects.select_related("facility", "unit").defer("pdf").get(pk=job_id)
    residents = list(
        unit_mar_residents(facility=job.facility, unit=job.unit, year=job.year, month=job.month)
    )
    MarPdfJob.objects.filter(pk=job_id).update(residents_total=len(residents))

    def progress(done: int, total: int) -> None:
        MarPdfJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            residents_done=done, residents_total=total, updated_at=timezone.now()
        )

    try:
        content = mar_pdf(residents=residents, year=job.year, month=job.month, progress=progress)
    except Exception:
        log.exception("MAR PDF job %s failed", job_id)
        MarPdfJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=JobState.FAILED,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            error="The PDF could not be built. Try again; if it fails again, tell your "
            "administrator (the error is in the worker's log).",
        )
        return
    MarPdfJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(
        state=JobState.DONE,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
        pdf=content,
        pdf_bytes=len(content),
    )
