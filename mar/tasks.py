"""Celery tasks: thin wrappers around the services, safe to run twice and at once."""

from celery import shared_task

from accounts.models import Facility

from . import services


@shared_task(name="mar.tasks.generate_due_doses")
def generate_due_doses(facility_id: int | None = None) -> int:
    facility = Facility.objects.filter(pk=facility_id).first() if facility_id else None
    return services.doses_generate(facility=facility)


@shared_task(name="mar.tasks.mark_overdue_doses")
def mark_overdue_doses() -> dict[str, int]:
    return services.doses_mark_overdue()


@shared_task(name="mar.tasks.raise_followup_alerts")
def raise_followup_alerts() -> dict[str, int]:
    return services.alerts_raise_followups()
