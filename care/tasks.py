"""Thin Celery wrappers around the care task engine (see mar.tasks for the fan-out)."""

from celery import shared_task

from accounts.fan_out import fan_out

from .services import care_tasks_generate, care_tasks_mark


@shared_task(name="care.tasks.generate_care_tasks")
def generate_care_tasks(facility_ids: list[int] | None = None) -> int:
    return care_tasks_generate(facility_ids=facility_ids)


@shared_task(name="care.tasks.mark_care_tasks")
def mark_care_tasks(facility_ids: list[int] | None = None) -> dict[str, int]:
    return care_tasks_mark(facility_ids=facility_ids)


def generation_send(facility_id: int) -> None:
    """Ask a worker to make one facility's care tasks now (settings.CARE_GENERATION_QUEUE)."""
    generate_care_tasks.delay(facility_ids=[facility_id])


# Sent by the beat (see accounts.fan_out); a late one is dropped, the next round catches up.
GENERATION_EXPIRES = 14 * 60
SWEEP_EXPIRES = 55


@shared_task(name="care.tasks.fan_out_care_generation", bind=True)
def fan_out_care_generation(self) -> int:
    return fan_out(self, generate_care_tasks, expires=GENERATION_EXPIRES)


@shared_task(name="care.tasks.fan_out_care_sweeps", bind=True)
def fan_out_care_sweeps(self) -> int:
    return fan_out(self, mark_care_tasks, expires=SWEEP_EXPIRES)
