"""Celery tasks of `reports`: thin wrappers around its services."""

from celery import shared_task

from .services import mar_pdf_job_run


@shared_task(name="reports.tasks.build_mar_pdf")
def build_mar_pdf(job_id: int) -> None:
    mar_pdf_job_run(job_id=job_id)


def mar_pdf_send(job_id: int) -> None:
    """Ask a worker to build a unit's MAR PDF (settings.MAR_PDF_QUEUE)."""
    build_mar_pdf.delay(job_id)
