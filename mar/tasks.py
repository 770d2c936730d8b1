"""Celery tasks: thin wrappers around the services, safe to run twice and at once.

The beat sends only the three fan-out tasks. Each sends one task per facility (or per batch of
settings.DOSE_ENGINE_FACILITIES_PER_TASK facilities) to the queue, so that the workers of every
machine share the work and a slow or failing facility holds up and fails no other. Every
facility task decides from the rows' state what is due: a lost, repeated, late or concurrent
one is harmless, and the next round does what it did not.
"""

from celery import shared_task

from accounts.fan_out import fan_out

from .services import alerts, dose_engine

# A task still queued when the next round is sent is dropped (a backlog after an outage is
# useless: one fresh round catches up). The beat's own entries expire alike.
GENERATION_EXPIRES = 14 * 60
SWEEP_EXPIRES = 55
FOLLOWUP_EXPIRES = 4 * 60


@shared_task(name="mar.tasks.generate_due_doses")
def generate_due_doses(
    facility_ids: list[int] | None = None, facility_id: int | None = None
) -> int:
    """Generate these facilities' doses (every facility's when none is named). `facility_id`
    is one facility, as messages sent before the fan-out name it."""
    if facility_id is not None:
        facility_ids = [facility_id]
    return dose_engine.doses_generate(facility_ids=facility_ids)


@shared_task(name="mar.tasks.mark_overdue_doses")
def mark_overdue_doses(facility_ids: list[int] | None = None) -> dict[str, int]:
    return dose_engine.doses_mark_overdue(facility_ids=facility_ids)


@shared_task(name="mar.tasks.raise_followup_alerts")
def raise_followup_alerts(facility_ids: list[int] | None = None) -> dict[str, int]:
    return alerts.alerts_raise_followups(facility_ids=facility_ids)


@shared_task(name="mar.tasks.fan_out_dose_generation", bind=True)
def fan_out_dose_generation(self) -> int:
    return fan_out(self, generate_due_doses, expires=GENERATION_EXPIRES)


@shared_task(name="mar.tasks.fan_out_overdue_sweeps", bind=True)
def fan_out_overdue_sweeps(self) -> int:
    return fan_out(self, mark_overdue_doses, expires=SWEEP_EXPIRES)


@shared_task(name="mar.tasks.fan_out_followup_alerts", bind=True)
def fan_out_followup_alerts(self) -> int:
    return fan_out(self, raise_followup_alerts, expires=FOLLOWUP_EXPIRES)


def generation_send(facility_id: int) -> None:
    """Ask a worker to generate one facility's doses now (settings.DOSE_GENERATION_QUEUE)."""
    generate_due_doses.delay(facility_ids=[facility_id])
