"""Celery tasks: thin wrappers around the services, safe to run twice and at once."""

from celery import shared_task

from accounts.models import Facility

from .services import alerts, dose_engine


@shared_task(name="mar.tasks.generate_due_doses")
def generate_due_doses(facility_id: int | None = None) -> int:
    facility = Facility.objects.filter(pk=facility_id).first() if facility_id else None
    return dose_engine.doses_generate(facility=facility)


@shared_task(name="mar.tasks.mark_overdue_doses")
def mark_overdue_doses() -> dict[str, int]:
    return dose_engine.doses_mark_overdue()


@shared_task(name="mar.tasks.raise_followup_alerts")
def raise_followup_alerts() -> dict[str, int]:
    return alerts.alerts_raise_followups()


def generation_send(facility_id: int) -> None:
    """Ask a worker to generate one facility's doses now (settings.DOSE_GENERATION_QUEUE)."""
    generate_due_doses.delay(facility_id=facility_id)
