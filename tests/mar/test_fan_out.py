"""The beat fans the engine out: one task per facility (or batch), each on its own.

The tasks run eagerly here (in this process, as a worker would run them); the round trip
through a real broker is tests/mar/test_celery.py.
"""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import Facility
from mar import tasks
from mar.models import Alert, DoseState, ScheduledDose
from tests.factories import FacilityFactory, PrescriptionFactory, ResidentFactory

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York


@pytest.fixture
def eager():
    """Sent tasks run at once, in this process; a task's failure is kept in its result (as a
    worker logs it and carries on) instead of reaching the sender."""
    from medtech.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def homes(db):
    """Three facilities with one resident and one "08:00 and 20:00" order each."""
    facilities = [FacilityFactory(name=f"Home {n}") for n in range(3)]
    for facility in facilities:
        PrescriptionFactory(resident=ResidentFactory(facility=facility))
    return facilities


def _doses_per_facility(facilities, **filters) -> list[int]:
    return [
        ScheduledDose.objects.filter(facility=facility, **filters).count()
        for facility in facilities
    ]


def test_generation_sends_one_task_per_facility_and_each_makes_its_doses(eager, homes):
    with time_machine.travel(NOW, tick=False):
        assert tasks.fan_out_dose_generation() == 3
    assert _doses_per_facility(homes) == [4, 4, 4]


def test_a_failing_facility_fails_alone(eager, homes, caplog):
    broken = homes[1]
    # A time zone no longer known (e.g. removed from the system's tzdata): its expansion fails.
    Facility.objects.filter(pk=broken.pk).update(timezone="Mars/Olympus_Mons")
    with time_machine.travel(NOW, tick=False), caplog.at_level(logging.ERROR):
        assert tasks.fan_out_dose_generation() == 3
    assert _doses_per_facility(homes) == [4, 0, 4]
    assert "Mars/Olympus_Mons" in caplog.text  # the worker logs the failure


def test_facilities_are_batched_as_configured(eager, homes, settings):
    settings.DOSE_ENGINE_FACILITIES_PER_TASK = 2
    with time_machine.travel(NOW, tick=False):
        assert tasks.fan_out_dose_generation() == 2
    assert _doses_per_facility(homes) == [4, 4, 4]


def test_the_sweep_moves_each_facilitys_doses_with_one_alert_each(eager, homes):
    with time_machine.travel(NOW, tick=False):
        tasks.fan_out_dose_generation()
    # 09:05 in New York: the 08:00 doses' windows closed at 09:00.
    with time_machine.travel(NOW + timedelta(hours=1, minutes=5), tick=False):
        assert tasks.fan_out_overdue_sweeps() == 3
        tasks.fan_out_overdue_sweeps()  # twice: nothing more moves, no second alert
    assert _doses_per_facility(homes, state=DoseState.OVERDUE) == [1, 1, 1]
    assert [Alert.objects.filter(facility=f).count() for f in homes] == [1, 1, 1]


def test_a_facility_task_does_only_its_facilities(homes):
    with time_machine.travel(NOW, tick=False):
        assert tasks.generate_due_doses(facility_ids=[homes[0].pk, homes[2].pk]) == 8
        assert tasks.mark_overdue_doses(facility_ids=[homes[0].pk]) == {"missed": 0, "overdue": 0}
    assert _doses_per_facility(homes) == [4, 0, 4]
    with time_machine.travel(NOW + timedelta(hours=1, minutes=5), tick=False):
        assert tasks.mark_overdue_doses(facility_ids=[homes[2].pk]) == {"missed": 0, "overdue": 1}
    assert _doses_per_facility(homes, state=DoseState.OVERDUE) == [0, 0, 1]


def test_follow_up_alerts_fan_out_too(eager, homes):
    assert tasks.fan_out_followup_alerts() == 3


def test_a_message_from_before_the_fan_out_still_names_one_facility(homes):
    with time_machine.travel(NOW, tick=False):
        assert tasks.generate_due_doses(facility_id=homes[1].pk) == 4
    assert _doses_per_facility(homes) == [0, 4, 0]


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["mar_scheduleddose", "mar_alert", "care_caretask"])
def test_the_open_row_tables_are_vacuumed_after_half_a_percent_changes(table):
    """Documented rows leave the partial indexes on open rows soon (migrations mar 0015, care
    0003), not after PostgreSQL's default 20% of a table of millions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        options = cursor.fetchone()[0] or []
    assert "autovacuum_vacuum_scale_factor=0.005" in options
