"""The beat's tasks go through a real Redis broker to a real worker and do their work."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from mar.models import ScheduledDose
from mar.tasks import (
    fan_out_dose_generation,
    generate_due_doses,
    mark_overdue_doses,
)
from medtech.celery import app
from tests.factories import FacilityFactory, PrescriptionFactory, ResidentFactory


def _wait_for(condition, timeout: float = 30.0) -> bool:
    """Poll the database for the task's outcome until it shows or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_generate_due_doses_round_trip_through_redis():
    PrescriptionFactory()
    queue = f"test-{uuid.uuid4().hex}"  # no other worker on this Redis can take the message
    with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        generate_due_doses.apply_async(queue=queue)
        mark_overdue_doses.apply_async(queue=queue)
        assert _wait_for(lambda: ScheduledDose.objects.count() >= 4)


@pytest.mark.django_db(transaction=True)
def test_the_beat_fans_out_one_task_per_facility_through_redis():
    homes = [FacilityFactory(name=f"Home {n}") for n in range(2)]
    for home in homes:
        PrescriptionFactory(resident=ResidentFactory(facility=home))
    queue = f"test-{uuid.uuid4().hex}"  # the facility tasks follow the fan-out to this queue
    with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        fan_out_dose_generation.apply_async(queue=queue)
        assert _wait_for(
            lambda: all(ScheduledDose.objects.filter(facility=h).count() >= 4 for h in homes)
        )


def test_tasks_are_registered_under_the_beat_names():
    from django.conf import settings

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    # What a worker does when it starts: import every installed app's tasks module (in a test
    # process only the modules other tests happened to import are loaded).
    app.loader.import_default_modules()
    assert names <= set(app.tasks)
    assert generate_due_doses.name == "mar.tasks.generate_due_doses"
    assert mark_overdue_doses.name == "mar.tasks.mark_overdue_doses"
    assert app.conf.broker_url.startswith(("redis://", "redis+socket://", "rediss://"))
