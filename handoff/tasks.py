"""Thin Celery wrappers around handoff's services."""

from celery import shared_task

from .services import handoff_alerts_raise


@shared_task(name="handoff.tasks.raise_handoff_alerts")
def raise_handoff_alerts() -> int:
    return handoff_alerts_raise()
