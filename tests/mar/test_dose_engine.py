"""The dose engine: generation, the overdue sweep, and what holds, absences and stops do."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Role
from mar import services
from mar.models import Alert, AlertKind, AlertState, DoseState, ScheduledDose
from meds import services as order_services
from residents import services as resident_services
from tests.concurrency import while_in_progress
from tests.factories import (
    FacilityFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
    scheduled_dose,
)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York (EDT)


def _local(dose, tz="America/New_York"):
    from zoneinfo import ZoneInfo

    return dose.due_at.astimezone(ZoneInfo(tz))


@pytest.fixture
def order(resident):
    return PrescriptionFactory(resident=resident)


def test_generates_48_hours_of_doses_in_local_time(order):
    added = services.doses_generate(now=NOW)
    doses = list(ScheduledDose.objects.order_by("due_at"))
    # 08:00 today (due now), 20:00 today, 08:00 and 20:00 tomorrow; 08:00 the day after is 48 h
    # away exactly and belongs to the next run.
    assert added == len(doses) == 4
    assert [(_local(d).day, _local(d).hour) for d in doses] == [
        (10, 8),
        (10, 20),
        (11, 8),
        (11, 20),
    ]
    first = doses[0]
    assert first.window_opens_at == first.due_at - timedelta(minutes=60)
    assert first.window_closes_at == first.due_at + timedelta(minutes=60)
    assert all(d.state == DoseState.DUE for d in doses)


def test_generation_looks_back_a_few_hours_but_not_before_verification(order):
    order.active_since = NOW - timedelta(minutes=30)
    order.save(update_fields=["active_since"])
    services.doses_generate(now=NOW + timedelta(hours=1))
    # 08:00 local (12:00 UTC) today is after verification (11:30 UTC): it is generated.
    assert ScheduledDose.objects.filter(due_at=NOW).exists()

    late = PrescriptionFactory(resident=order.resident, active_since=NOW + timedelta(minutes=5))
    services.doses_generate(now=NOW + timedelta(hours=1))
    assert not ScheduledDose.objects.filter(prescription=late, due_at__lte=NOW).exists()


def test_generation_is_idempotent(order):
    assert services.doses_generate(now=NOW) == 4
    assert services.doses_generate(now=NOW) == 0
    # A quarter of an hour later the horizon takes in one more dose, and only that one.
    assert services.doses_generate(now=NOW + timedelta(minutes=15)) == 1
    assert services.doses_generate(now=NOW + timedelta(minutes=15)) == 0
    assert ScheduledDose.objects.count() == 5


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        # Spring forward: 02:30 does not exist -> 03:30 EDT = 07:30 UTC; 08:00 EDT = 12:00 UTC.
        ("America/New_York", datetime(2026, 3, 8), [(7, 30), (12, 0)]),
        # Fall back: 01:30 happens twice -> once, at 01:30 EDT = 05:30 UTC; 08:00 EST = 13:00.
        ("America/New_York", datetime(2026, 11, 1), [(5, 30), (13, 0)]),
        # Europe/London spring: 01:30 is in the gap -> 02:30 BST = 01:30 UTC; 08:00 BST = 07:00.
        ("Europe/London", datetime(2026, 3, 29), [(1, 30), (7, 0)]),
        # Europe/London autumn: 01:30 twice -> first (BST) = 00:30 UTC; 08:00 GMT = 08:00 UTC.
        ("Europe/London", datetime(2026, 10, 25), [(0, 30), (8, 0)]),
    ],
)
def test_dst_days_give_each_dose_once_through_the_generator(db, tz, day, expected_utc):
    facility = FacilityFactory(timezone=tz)
    resident = ResidentFactory(facility=facility)
    gap_time = time(2, 30) if tz == "America/New_York" and day.month == 3 else time(1, 30)
    PrescriptionFactory(resident=resident, times=[gap_time, time(8, 0)])
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=6)
    services.doses_generate(now=start)
    local_day = []
    for dose in ScheduledDose.objects.order_by("due_at"):
        if _local(dose, tz).date() == day.date():
            local_day.append((dose.due_at.hour, dose.due_at.minute))
    assert local_day == expected_utc


def test_two_generators_at_once_make_no_duplicates(transactional_db):
    resident = ResidentFactory()
    for _ in range(30):
        PrescriptionFactory(resident=resident)
    errors = []
    added = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            added.append(services.doses_generate(now=NOW))
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
    assert ScheduledDose.objects.count() == 30 * 4
    # Each row is counted by the run that made it: the counts add up, never twice.
    assert sum(added) == 30 * 4


@pytest.mark.parametrize("change", ["hold", "loa"])
def test_a_hold_or_absence_in_progress_is_waited_for_and_no_dose_of_it_lands_due(
    transactional_db, change
):
    """The generator reads the orders, then a nurse's hold (or an LOA) is in progress when it
    writes: it waits, sees the change, and writes nothing for that order."""
    resident = ResidentFactory()
    order = PrescriptionFactory(resident=resident)
    other = PrescriptionFactory(resident=ResidentFactory(facility=resident.facility))
    nurse = member(resident.facility, Role.NURSE)

    def change_it():
        if change == "hold":
            order_services.prescription_hold(
                actor=nurse, prescription=order, reason="NPO for a procedure"
            )
        else:
            resident_services.resident_change_status(
                actor=nurse, resident=resident, to_status="loa", reason="Family visit"
            )

    added = while_in_progress(change_it, lambda: services.doses_generate(now=NOW))
    assert not ScheduledDose.objects.filter(prescription=order).exists()
    assert ScheduledDose.objects.filter(prescription=other, state=DoseState.DUE).count() == 4
    assert added == [4]


def test_a_dose_missing_in_the_middle_is_made_again_and_counted(order):
    services.doses_generate(now=NOW)
    hole = ScheduledDose.objects.order_by("due_at")[1]
    ScheduledDose.objects.filter(pk=hole.pk).delete()
    assert services.doses_generate(now=NOW) == 1
    assert ScheduledDose.objects.filter(due_at=hole.due_at, state=DoseState.DUE).exists()


def test_orders_begun_on_different_days_keep_their_own_every_other_day(resident):
    # Same times, same recurrence: one began on an even day, one on an odd day, one long ago.
    odd, even, old = (
        PrescriptionFactory(
            resident=resident,
            times=[time(9, 0, 30)],
            recurrence="every_n_days",
            every_n_days=2,
            start_date=start,
        )
        for start in (
            datetime(2026, 6, 1).date(),
            datetime(2026, 6, 2).date(),
            datetime(2025, 2, 3).date(),
        )
    )
    assert services.doses_generate(now=NOW) == 3
    days = {
        order: [_local(d).day for d in ScheduledDose.objects.filter(prescription=order)]
        for order in (odd, even, old)
    }
    # 48 h from 08:00 on the 10th: 09:00:30 on the 10th and 11th; 06-01 + 2n days are odd.
    assert days == {odd: [11], even: [10], old: [10]}
    assert {_local(d).second for d in ScheduledDose.objects.all()} == {30}
    assert services.doses_generate(now=NOW) == 0


def test_sweep_moves_due_to_overdue_with_one_alert(order):
    services.doses_generate(now=NOW)
    first = ScheduledDose.objects.order_by("due_at").first()  # 08:00 local today
    after_close = first.window_closes_at + timedelta(minutes=1)
    assert services.doses_mark_overdue(now=after_close) == {"missed": 0, "overdue": 1}
    assert services.doses_mark_overdue(now=after_close) == {"missed": 0, "overdue": 0}
    first.refresh_from_db()
    assert first.state == DoseState.OVERDUE
    alert = Alert.objects.get()
    assert (alert.kind, alert.dose, alert.state) == (AlertKind.OVERDUE_DOSE, first, AlertState.OPEN)


def test_overdue_becomes_missed_after_the_facilitys_hours_with_still_one_alert(order):
    services.doses_generate(now=NOW)
    first = ScheduledDose.objects.order_by("due_at").first()
    services.doses_mark_overdue(now=first.window_closes_at + timedelta(minutes=1))
    services.doses_mark_overdue(now=first.window_closes_at + timedelta(hours=3, minutes=59))
    first.refresh_from_db()
    assert first.state == DoseState.OVERDUE
    services.doses_mark_overdue(now=first.window_closes_at + timedelta(hours=4))
    first.refresh_from_db()
    assert first.state == DoseState.MISSED
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.MISSED_DOSE


def test_twelve_hours_without_the_beat_one_run_catches_up(order):
    services.doses_generate(now=NOW)
    later = NOW + timedelta(hours=26)  # 10:00 local the next day; beat was down all that time
    counts = services.doses_mark_overdue(now=later)
    states = dict(ScheduledDose.objects.values_list("due_at", "state"))
    # Yesterday 08:00 and 20:00 closed more than 4 h ago: missed. Today 08:00 closed at 09:00:
    # overdue. Today 20:00: still due.
    assert sorted(states.values()) == ["due", "missed", "missed", "overdue"]
    assert counts == {"missed": 2, "overdue": 1}
    alerts = Alert.objects.all()
    assert sorted(a.kind for a in alerts) == [
        AlertKind.MISSED_DOSE,
        AlertKind.MISSED_DOSE,
        AlertKind.OVERDUE_DOSE,
    ]
    assert len({a.dose_id for a in alerts}) == 3
    services.doses_mark_overdue(now=later)
    assert Alert.objects.count() == 3


def test_hold_cancels_future_doses_and_resume_brings_them_back(order, facility):
    nurse = member(facility, Role.NURSE)
    services.doses_generate(now=NOW)
    import time_machine

    with time_machine.travel(NOW, tick=False):
        order_services.prescription_hold(actor=nurse, prescription=order, reason="NPO for test")
    assert set(ScheduledDose.objects.values_list("state", flat=True)) == {DoseState.CANCELLED}
    assert services.doses_generate(now=NOW + timedelta(minutes=15)) == 0

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        order_services.prescription_resume(actor=nurse, prescription=order, reason="Test done")
    services.doses_generate(now=NOW + timedelta(hours=1))
    assert ScheduledDose.objects.filter(state=DoseState.DUE).count() == 4


def test_discontinue_cancels_future_doses_and_resolves_their_alerts(order, facility):
    nurse = member(facility, Role.NURSE)
    services.doses_generate(now=NOW)
    first = ScheduledDose.objects.order_by("due_at").first()
    services.doses_mark_overdue(now=first.window_closes_at + timedelta(minutes=5))
    import time_machine

    with time_machine.travel(first.due_at - timedelta(minutes=1), tick=False):
        order_services.prescription_discontinue(
            actor=nurse, prescription=order, reason="Physician stopped it"
        )
    assert not ScheduledDose.objects.filter(state__in=[DoseState.DUE, DoseState.OVERDUE]).exists()
    assert Alert.objects.get().state == AlertState.RESOLVED
    assert services.doses_generate(now=NOW + timedelta(hours=1)) == 0


def test_loa_cancels_doses_and_return_fills_them_in(order, facility):
    admin = member(facility, Role.ADMIN)
    services.doses_generate(now=NOW)
    import time_machine

    with time_machine.travel(NOW, tick=False):
        resident_services.resident_change_status(
            actor=admin, resident=order.resident, to_status="loa", reason="Family trip"
        )
    assert not ScheduledDose.objects.exclude(state=DoseState.CANCELLED).exists()
    assert set(ScheduledDose.objects.values_list("cancel_reason", flat=True)) == {"loa"}
    # Nothing is generated while away.
    assert services.doses_generate(now=NOW + timedelta(hours=3)) == 0
    assert not ScheduledDose.objects.exclude(state=DoseState.CANCELLED).exists()

    back = NOW + timedelta(hours=13)  # 21:00 local: the 20:00 dose was during the absence
    with time_machine.travel(back, tick=False):
        resident_services.resident_change_status(
            actor=admin, resident=order.resident, to_status="active", reason="Back home"
        )
    services.doses_generate(now=back)
    live = ScheduledDose.objects.exclude(state=DoseState.CANCELLED).order_by("due_at")
    assert [_local(d).hour for d in live] == [8, 20, 8, 20]
    assert _local(live[0]).day == 11
    # The dose during the absence stays cancelled for the MAR to read "LOA".
    assert ScheduledDose.objects.get(due_at=datetime(2026, 6, 11, 0, 0, tzinfo=UTC)).state == (
        DoseState.CANCELLED
    )


def test_pending_orders_and_prn_orders_make_no_doses(resident):
    PrescriptionFactory(resident=resident, status="pending", verified_at=None, verified_by=None)
    PrescriptionFactory(
        resident=resident, is_prn=True, times=[], prn_min_hours=4, prn_max_per_24h=4
    )
    assert services.doses_generate(now=NOW) == 0


def test_beat_schedule_names_the_tasks_in_intervals():
    from django.conf import settings

    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "mar.tasks.fan_out_dose_generation": 900.0,
        "mar.tasks.fan_out_overdue_sweeps": 60.0,
        "mar.tasks.fan_out_followup_alerts": 300.0,
        "care.tasks.fan_out_care_generation": 900.0,
        "care.tasks.fan_out_care_sweeps": 60.0,
        "accounts.tasks.clear_expired_sessions": 3600.0,
        "clinical.tasks.escalate_conditions": 60.0,
        "incidents.tasks.raise_followup_alerts": 300.0,
        "appointments.tasks.raise_outcome_alerts": 300.0,
        "handoff.tasks.raise_handoff_alerts": 60.0,
        "pharmacy.tasks.process_received_messages": 60.0,
        "pharmacy.tasks.send_queued_refills": 120.0,
    }


def test_many_verifications_in_one_transaction_queue_one_generation(
    facility, queued_generations, django_capture_on_commit_callbacks
):
    """Resuming or verifying many orders at once asks the worker once per facility."""
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            services.generation_queue(facility.pk)
        services.generation_queue(facility.pk + 1000)
    assert queued_generations == [facility.pk, facility.pk + 1000]


def test_verifying_an_order_asks_for_its_facility_doses_after_commit(
    facility, resident, nurse_user, queued_generations, django_capture_on_commit_callbacks
):
    order = PrescriptionFactory(
        resident=resident, status="pending", verified_at=None, verified_by=None, active_since=None
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_services.prescription_verify(actor=nurse_user, prescription=order)
    assert queued_generations == []  # nothing is sent before the order is committed
    for callback in callbacks:
        callback()
    assert queued_generations == [facility.pk]


@pytest.mark.parametrize("days_down", [3, 5])
def test_after_days_without_the_generator_the_gap_exists_missed_with_one_alert_each(
    order, days_down
):
    services.doses_generate(now=NOW)  # doses up to 48 h ahead, then nothing runs
    back = NOW + timedelta(days=days_down)
    services.doses_generate(now=back)
    services.doses_mark_overdue(now=back)
    local = [_local(d) for d in ScheduledDose.objects.order_by("due_at")]
    # Every 08:00 and 20:00 from the first run to 48 h after the return, none twice.
    assert len(local) == len(set(local)) == 2 * (days_down + 2)
    assert (local[0].day, local[0].hour) == (10, 8)
    gap = ScheduledDose.objects.filter(window_closes_at__lte=back - timedelta(hours=4))
    assert gap.count() >= 2 * days_down - 1
    assert set(gap.values_list("state", flat=True)) == {DoseState.MISSED}
    assert Alert.objects.filter(kind=AlertKind.MISSED_DOSE).count() == gap.count()
    assert Alert.objects.values("dose").distinct().count() == Alert.objects.count()


def test_catch_up_reaches_back_7_days_at_most(order):
    services.doses_generate(now=NOW)
    back = NOW + timedelta(days=12)
    services.doses_generate(now=back)
    caught_up = ScheduledDose.objects.filter(due_at__gt=NOW + services.HORIZON)
    assert caught_up.order_by("due_at").first().due_at >= back - timedelta(days=7)
    # 7 days of 08:00 and 20:00 behind the return, and the 48 hours ahead.
    assert caught_up.count() == 14 + 4


def test_catch_up_makes_no_dose_for_the_days_a_resident_was_away(order, facility, resident):
    services.doses_generate(now=NOW)
    returned = NOW + timedelta(days=4)
    resident.present_since = returned
    resident.save(update_fields=["present_since"])
    services.doses_generate(now=returned + timedelta(hours=1))
    assert not ScheduledDose.objects.filter(
        due_at__gt=NOW + services.HORIZON, due_at__lt=returned
    ).exists()


@pytest.mark.parametrize("wrong", ["resident", "facility", "prescription"])
def test_a_dose_belongs_to_its_orders_resident_and_facility(order, wrong):
    """One composite foreign key checks all three references (one check per generated row)."""
    other = PrescriptionFactory(resident=ResidentFactory(facility=FacilityFactory()))
    dose = scheduled_dose(order, NOW)
    stranger = {
        "resident": {"resident_id": other.resident_id},
        "facility": {"facility_id": other.facility_id},
        "prescription": {"prescription_id": other.pk + 1000},
    }[wrong]
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledDose.objects.filter(pk=dose.pk).update(**stranger)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
