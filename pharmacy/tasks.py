"""Thin Celery wrappers around the pharmacy's services."""

from celery import shared_task

from . import refills, services


@shared_task(name="pharmacy.tasks.process_message")
def process_message(message_id: int) -> str:
    return services.message_process(message_id=message_id)


def process_send(message_id: int) -> None:
    """Ask a worker to process a message just acknowledged (settings.PHARMACY_PROCESS_QUEUE).
    No publishing retries: with the broker down this fails at once (the ACK must not wait), and
    the beat's sweep processes the message later."""
    process_message.apply_async(args=[message_id], retry=False)


@shared_task(name="pharmacy.tasks.process_received_messages")
def process_received_messages() -> int:
    """The beat's sweep: every message acknowledged and not processed yet (a worker or the broker
    was down, or the task was lost)."""
    return services.messages_process_received()


@shared_task(
    name="pharmacy.tasks.send_refill",
    autoretry_for=(refills.PharmacyUnreachable,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=6,
)
def send_refill(refill_id: int) -> str:
    """Send one refill request; the pharmacy unreachable: retried with back-off (30 s, 60 s, …
    up to 10 minutes), and after that the beat's sweep keeps trying."""
    return refills.refill_send(refill_id=refill_id)


def refill_send(refill_id: int) -> None:
    """Ask a worker to send a refill request just queued (settings.PHARMACY_REFILL_QUEUE)."""
    send_refill.apply_async(args=[refill_id], retry=False)


@shared_task(name="pharmacy.tasks.send_queued_refills")
def send_queued_refills() -> int:
    return refills.refills_send_queued()
