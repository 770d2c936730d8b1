"""Thin Celery wrappers around incidents' services."""

from celery import shared_task

from .services import followups_raise_due


@shared_task(name="incidents.tasks.raise_followup_alerts")
def raise_followup_alerts() -> int:
    return followups_raise_due()
