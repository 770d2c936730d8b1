"""Thin Celery wrappers around the pharmacy's services."""

from celery import shared_task

from . import services


@shared_task(name="pharmacy.tasks.process_message")
def process_message(message_id: int) -> str:
    return services.message_process(message_id=message_id)


def process_send(message_id: int) -> None:
    """Ask a worker to process a message just acknowledged (settings.PHARMACY_PROCESS_QUEUE)."""
    process_message.delay(message_id)


@shared_task(name="pharmacy.tasks.process_received_messages")
def process_received_messages() -> int:
    """The beat's sweep: every message acknowledged and not processed yet (a worker or the broker
    was down, or the task was lost)."""
    return services.messages_process_received()
