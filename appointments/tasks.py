"""Thin Celery wrappers around appointments' services."""

from celery import shared_task

from .services import appointments_raise_overdue_outcomes


@shared_task(name="appointments.tasks.raise_outcome_alerts")
def raise_outcome_alerts() -> int:
    return appointments_raise_overdue_outcomes()
