"""Care tasks follow the timed-work pattern: made per shift from the active plan, idempotent,
caught up after an outage, swept missed at the end of the shift with one alert each."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from care import services
from care.models import CareTask, TaskState
from mar.models import Alert, AlertKind
from residents.models import ResidentStatus
from residents.services import resident_change_status
from tests.factories import ResidentFactory

from .conftest import NOW, published_plan

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")


def _move(resident, status, at, nurse):
    with time_machine.travel(at, tick=False):
        resident_change_status(
            actor=nurse, resident=resident, to_status=status, reason="moved", effective_at=at
        )


def _local(task: CareTask) -> tuple:
    return (
        task.item.category,
        task.shift_day.isoformat(),
        task.shift_name,
        task.window_opens_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M"),
        task.window_closes_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M"),
    )


def test_a_plan_makes_the_tasks_of_the_shifts_after_it_was_published(resident, template, nurse):
    # Published at 10:00 on Wednesday 14 January, during the day shift.
    published_plan(resident, template, nurse)
    added = services.care_tasks_generate(now=NOW)
    tasks = [_local(t) for t in CareTask.objects.select_related("item").order_by("pk")]
    # Toileting on every shift from the evening on; bathing on Tuesdays and Fridays only.
    assert sorted(tasks) == [
        ("toileting", "2026-01-14", "evening", "01-14 15:00", "01-14 23:00"),
        ("toileting", "2026-01-14", "night", "01-14 23:00", "01-15 07:00"),
        ("toileting", "2026-01-15", "day", "01-15 07:00", "01-15 15:00"),
    ]
    assert added == 3
    assert services.care_tasks_generate(now=NOW) == 0
    assert services.care_tasks_generate(now=NOW + 6 * HOUR) == 1  # the next evening shift


def test_no_tasks_while_away_and_they_return_with_the_resident(resident, template, nurse):
    published_plan(resident, template, nurse, at=NOW - 24 * HOUR)
    services.care_tasks_generate(now=NOW)
    open_before = CareTask.objects.filter(state=TaskState.DUE).count()
    _move(resident, ResidentStatus.HOSPITAL, NOW, nurse)
    assert CareTask.objects.filter(state=TaskState.DUE).count() == 0
    assert CareTask.objects.filter(cancel_reason="hospital").count() == open_before
    assert services.care_tasks_generate(now=NOW + HOUR) == 0
    back = NOW + 2 * HOUR
    _move(resident, ResidentStatus.ACTIVE, back, nurse)
    services.care_tasks_generate(now=back)
    later = CareTask.objects.filter(window_opens_at__gt=back)
    assert later.exists() and not later.exclude(state=TaskState.DUE).exists()
    alert = Alert.objects.get(kind=AlertKind.REASSESSMENT_DUE, resident=resident)
    assert "reassess by 2026-01-16 12:00" in alert.message  # 48 hours, local time


def test_the_sweep_turns_overdue_in_the_last_hour_then_missed_with_one_alert(
    resident, template, nurse
):
    published_plan(resident, template, nurse)
    services.care_tasks_generate(now=NOW)
    evening = CareTask.objects.get(shift_name="evening")
    assert services.care_tasks_mark(now=evening.window_closes_at - 2 * HOUR) == {
        "checks_missed": 0,
        "checks_overdue": 0,
        "missed": 0,
        "overdue": 0,
    }
    assert services.care_tasks_mark(now=evening.window_closes_at - HOUR)["overdue"] == 1
    counts = services.care_tasks_mark(now=evening.window_closes_at)
    assert counts["missed"] == 1
    evening.refresh_from_db()
    assert evening.state == TaskState.MISSED
    assert services.care_tasks_mark(now=evening.window_closes_at + HOUR)["missed"] == 0
    assert Alert.objects.filter(kind=AlertKind.MISSED_CARE).count() == 1


def test_after_an_outage_one_run_leaves_every_shift_in_its_state(resident, template, nurse):
    published_plan(resident, template, nurse)
    services.care_tasks_generate(now=NOW)
    # The engine stops for three days and comes back.
    back = NOW + 72 * HOUR
    services.care_tasks_generate(now=back)
    counts = services.care_tasks_mark(now=back)
    shifts = CareTask.objects.filter(window_closes_at__lte=back)
    assert shifts.count() == 9  # toileting on each of the 9 shifts that ended, none skipped
    assert counts["missed"] == 9
    assert Alert.objects.filter(kind=AlertKind.MISSED_CARE).count() == 9
    assert CareTask.objects.filter(state=TaskState.DUE).exists()  # and the shifts ahead


def test_a_run_adds_only_what_is_missing(resident, template, nurse):
    """The unique key (item, shift day, shift name) skips what another run already made."""
    published_plan(resident, template, nurse)
    first = services.care_tasks_generate(now=NOW)
    CareTask.objects.filter(pk=CareTask.objects.order_by("pk").first().pk).delete()
    assert services.care_tasks_generate(now=NOW) == 1
    assert services.care_tasks_generate(now=NOW) == 0
    assert CareTask.objects.count() == first


def test_shifts_across_the_dst_change_keep_their_local_hours(facility, template, nurse):
    resident = ResidentFactory(facility=facility)
    # Saturday 7 March 2026, 10:00 EST; clocks go forward at 02:00 on Sunday 8 March.
    saturday = datetime.datetime(2026, 3, 7, 15, 0, tzinfo=datetime.UTC)
    published_plan(resident, template, nurse, at=saturday)
    services.care_tasks_generate(now=saturday)
    night = CareTask.objects.get(shift_name="night", shift_day=datetime.date(2026, 3, 7))
    assert _local(night)[3:] == ("03-07 23:00", "03-08 07:00")
    assert night.window_closes_at - night.window_opens_at == 7 * HOUR


def test_discharge_cancels_the_open_tasks(resident, template, nurse):
    published_plan(resident, template, nurse)
    services.care_tasks_generate(now=NOW)
    _move(resident, ResidentStatus.DISCHARGED, NOW, nurse)
    assert set(CareTask.objects.values_list("state", "cancel_reason")) == {
        (TaskState.CANCELLED, "discharged")
    }
    assert services.care_tasks_generate(now=NOW + 24 * HOUR) == 0


def test_the_inbox_reads_every_kind_of_alert_and_sends_care_to_the_care_page(
    nurse_client, resident, template, nurse
):
    from django.urls import reverse

    from mar.inbox import KIND_WORDS

    assert set(KIND_WORDS) == set(AlertKind), "every kind of alert has its words in the inbox"
    published_plan(resident, template, nurse)
    services.care_tasks_generate(now=NOW)
    services.care_tasks_mark(now=NOW + 24 * HOUR)
    alert = Alert.objects.filter(kind=AlertKind.MISSED_CARE).first()
    assert alert.subject_url == reverse("care_resident", args=[resident.pk])
    for params in ({}, {"group": "kind"}):
        page = nurse_client.get(reverse("alert_list"), params)
        assert page.status_code == 200
        body = page.content.decode()
        assert "missed care" in body.lower(), body[body.find("<main") :][:3000]


def test_two_generators_at_once_make_each_task_once(transactional_db, facility, unit):
    """The beat and a queued generation after publishing may run together: the unique key
    skips what the other made, and each task is counted by the run that made it."""
    import threading

    from accounts.models import Role
    from care.catalog import adl_template
    from tests.factories import member

    nurse = member(facility, Role.NURSE)
    template = adl_template()
    for _ in range(5):
        published_plan(ResidentFactory(facility=facility, unit=unit), template, nurse)
    errors, added = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            added.append(services.care_tasks_generate(now=NOW))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Bathing is not due on a Wednesday or Thursday: toileting on 3 shifts, for 5 residents.
    assert CareTask.objects.count() == 5 * 3
    assert sum(added) == 5 * 3


def test_a_hospital_move_in_progress_is_waited_for_and_no_task_of_it_lands_due(
    transactional_db, facility, unit
):
    """The generator reads the plans, then the resident's move to hospital is in progress when
    it writes: it waits, sees the move, and writes no task for that resident."""
    from accounts.models import Role
    from care.catalog import adl_template
    from tests.concurrency import while_in_progress
    from tests.factories import member

    nurse = member(facility, Role.NURSE)
    template = adl_template()
    leaving = ResidentFactory(facility=facility, unit=unit)
    staying = ResidentFactory(facility=facility, unit=unit)
    for resident in (leaving, staying):
        published_plan(resident, template, nurse)

    def move():
        resident_change_status(
            actor=nurse, resident=leaving, to_status=ResidentStatus.HOSPITAL, reason="Fall"
        )

    added = while_in_progress(move, lambda: services.care_tasks_generate(now=NOW))
    assert not CareTask.objects.filter(resident=leaving).exists()
    assert CareTask.objects.filter(resident=staying, state=TaskState.DUE).count() == 3
    assert added == [3]


def test_tasks_follow_the_facility_shift_times(facility, template, nurse):
    # The facility's shifts start at 06:00, 14:00 and 22:00: the tasks' windows follow them.
    facility.day_shift_starts = datetime.time(6, 0)
    facility.evening_shift_starts = datetime.time(14, 0)
    facility.night_shift_starts = datetime.time(22, 0)
    facility.save()
    resident = ResidentFactory(facility=facility)
    published_plan(resident, template, nurse)  # 10:00, during the day shift
    services.care_tasks_generate(now=NOW)
    tasks = sorted(_local(t) for t in CareTask.objects.select_related("item"))
    assert tasks == [
        ("toileting", "2026-01-14", "evening", "01-14 14:00", "01-14 22:00"),
        ("toileting", "2026-01-14", "night", "01-14 22:00", "01-15 06:00"),
        ("toileting", "2026-01-15", "day", "01-15 06:00", "01-15 14:00"),
    ]
