"""Celery tasks: thin wrappers around the services, safe to run twice and at once."""

from celery import shared_task

from accounts.models import Facility
from core.audit import automatic

from .services import alerts, dose_engine

# Who the audit trail names for the beat's work.
DOSE_ENGINE = "dose engine"
ALERT_SWEEP = "alert sweep"


@shared_task(name="mar.tasks.generate_due_doses")
def generate_due_doses(facility_id: int | None = None) -> int:
    facility = Facility.objects.filter(pk=facility_id).first() if facility_id else None
    with automatic(DOSE_ENGINE):
        return dose_engine.doses_generate(facility=facility)


@shared_task(name="mar.tasks.mark_overdue_doses")
def mark_overdue_doses() -> dict[str, int]:
    with automatic(DOSE_ENGINE):
        return dose_engine.doses_mark_overdue()


@shared_task(name="mar.tasks.raise_followup_alerts")
def raise_followup_alerts() -> dict[str, int]:
    with automatic(ALERT_SWEEP):
        return alerts.alerts_raise_followups()


def generation_send(facility_id: int) -> None:
    """Ask a worker to generate one facility's doses now (settings.DOSE_GENERATION_QUEUE)."""
    generate_due_doses.delay(facility_id=facility_id)
