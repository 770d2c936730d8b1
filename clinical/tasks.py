"""Thin Celery wrappers around clinical's services."""

from celery import shared_task

from .services import conditions_escalate


@shared_task(name="clinical.tasks.escalate_conditions")
def escalate_conditions() -> int:
    return conditions_escalate()
