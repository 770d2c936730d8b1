"""Monitoring episodes: a check every shift from the care task engine (the timed-work pattern),
ended early by a nurse, documented once, missed with one alert each."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from care import services
from care.models import MonitoringCheck, TaskState
from core.errors import DomainError
from mar.models import Alert, AlertKind
from residents.models import ResidentStatus
from residents.services import resident_change_status
from tests.factories import ResidentFactory, member

from .conftest import NOW

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def med_tech(facility):
    return member(facility, Role.MED_TECH)


def _shifts() -> list[tuple]:
    return [
        (
            c.shift_day.isoformat(),
            c.shift_name,
            c.window_opens_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M"),
            c.state,
        )
        for c in MonitoringCheck.objects.order_by("window_opens_at")
    ]


def test_an_episode_has_a_check_every_shift_from_the_one_running_to_its_end(resident, med_tech):
    # 10:00 on Wednesday 14 January: the day shift runs; 72 hours end at 10:00 on Saturday.
    episode = services.monitoring_start(
        actor=med_tech, resident=resident, reason="Fell in the bathroom", now=NOW
    )
    # The shift running gets its check at once, and the next 24 hours' shifts with it.
    assert _shifts() == [
        ("2026-01-14", "day", "01-14 07:00", "due"),
        ("2026-01-14", "evening", "01-14 15:00", "due"),
        ("2026-01-14", "night", "01-14 23:00", "due"),
        ("2026-01-15", "day", "01-15 07:00", "due"),
    ]
    assert services.care_tasks_generate(now=NOW) == 0  # idempotent
    for hours in range(0, 96, 8):
        services.care_tasks_generate(now=NOW + hours * HOUR)
    checks = _shifts()
    # Day shift Wednesday to day shift Saturday (running at 10:00 when it ends): ten shifts.
    assert len(checks) == 10
    assert checks[-1][:2] == ("2026-01-17", "day")
    assert all(c.episode_id == episode.pk for c in MonitoringCheck.objects.all())


def test_a_check_left_undocumented_goes_overdue_then_missed_with_one_alert(resident, med_tech):
    services.monitoring_start(actor=med_tech, resident=resident, reason="Eats less", now=NOW)
    day = MonitoringCheck.objects.get(shift_name="day", shift_day=datetime.date(2026, 1, 14))
    counts = services.care_tasks_mark(now=day.window_closes_at - HOUR)
    assert counts["checks_overdue"] == 1
    counts = services.care_tasks_mark(now=day.window_closes_at)
    assert counts["checks_missed"] == 1
    services.care_tasks_mark(now=day.window_closes_at + HOUR)
    day.refresh_from_db()
    assert day.state == TaskState.MISSED
    alerts = Alert.objects.filter(kind=AlertKind.MISSED_MONITORING)
    assert [a.subject for a in alerts] == [f"monitoring:{day.pk}"]
    assert alerts[0].resident_id == resident.pk


def test_a_check_is_documented_once_with_what_was_seen(resident, med_tech):
    services.monitoring_start(actor=med_tech, resident=resident, reason="Eats less", now=NOW)
    check = MonitoringCheck.objects.get(shift_name="day", shift_day=datetime.date(2026, 1, 14))
    with pytest.raises(DomainError) as refused:
        services.monitoring_check_record(
            actor=med_tech, check_id=check.pk, status="done", note="  ", now=NOW
        )
    assert refused.value.field == "note"
    with pytest.raises(DomainError) as refused:
        services.monitoring_check_record(
            actor=med_tech, check_id=check.pk, status="maybe", note="Ate half", now=NOW
        )
    assert refused.value.field == "status"
    check.refresh_from_db()
    assert (check.state, check.note) == (TaskState.DUE, "")
    services.monitoring_check_record(
        actor=med_tech, check_id=check.pk, status="done", note="Ate half her lunch", now=NOW
    )
    check.refresh_from_db()
    assert (check.state, check.note, check.checked_by) == (
        TaskState.DONE,
        "Ate half her lunch",
        med_tech,
    )
    with pytest.raises(DomainError, match="already done"):
        services.monitoring_check_record(
            actor=med_tech, check_id=check.pk, status="done", note="Again", now=NOW
        )
    evening = MonitoringCheck.objects.get(shift_name="evening")
    with pytest.raises(DomainError, match="not begun"):
        services.monitoring_check_record(
            actor=med_tech, check_id=evening.pk, status="done", note="Early", now=NOW
        )


def test_a_nurse_ends_an_episode_early_and_its_later_checks_are_cancelled(
    resident, med_tech, facility
):
    nurse = member(facility, Role.NURSE)
    episode = services.monitoring_start(
        actor=med_tech, resident=resident, reason="Eats less", now=NOW
    )
    with pytest.raises(DomainError, match="Only a nurse"):
        services.monitoring_end(actor=med_tech, episode_id=episode.pk, note="Fine", now=NOW)
    with pytest.raises(DomainError) as refused:
        services.monitoring_end(actor=nurse, episode_id=episode.pk, note="", now=NOW)
    assert refused.value.field == "note"
    services.monitoring_end(
        actor=nurse, episode_id=episode.pk, note="Eating well again", now=NOW + HOUR
    )
    # The day shift running keeps its check; the later ones are cancelled, none are added.
    assert [(c[1], c[3]) for c in _shifts()] == [
        ("day", "due"),
        ("evening", "cancelled"),
        ("night", "cancelled"),
        ("day", "cancelled"),
    ]
    assert services.care_tasks_generate(now=NOW + 24 * HOUR) == 0
    with pytest.raises(DomainError, match="was ended"):
        services.monitoring_end(actor=nurse, episode_id=episode.pk, note="Again", now=NOW)


def test_checks_stop_while_in_hospital_and_return_with_the_resident(resident, med_tech):
    nurse = member(resident.facility, Role.NURSE)
    services.monitoring_start(actor=med_tech, resident=resident, reason="Fell", now=NOW)
    away = NOW + 2 * HOUR
    with time_machine.travel(away, tick=False):
        resident_change_status(
            actor=nurse,
            resident=resident,
            to_status=ResidentStatus.HOSPITAL,
            reason="sent out",
            effective_at=away,
        )
    assert {c[3] for c in _shifts()} == {"cancelled"}
    assert services.care_tasks_generate(now=away + HOUR) == 0
    back = NOW + 5 * HOUR  # 15:00 local: the evening shift begins
    with time_machine.travel(back, tick=False):
        resident_change_status(
            actor=nurse,
            resident=resident,
            to_status=ResidentStatus.ACTIVE,
            reason="back",
            effective_at=back,
        )
    services.care_tasks_generate(now=back + 30 * datetime.timedelta(minutes=1))
    states = {(c[0], c[1]): c[3] for c in _shifts()}
    assert states[("2026-01-14", "day")] == "cancelled"
    assert states[("2026-01-15", "day")] == "due"  # revived: the resident is back


def test_an_episode_needs_a_reason_a_floor_role_and_a_resident_still_here(facility, med_tech):
    resident = ResidentFactory(facility=facility)
    admin = member(facility, Role.ADMIN)
    with pytest.raises(DomainError) as refused:
        services.monitoring_start(actor=med_tech, resident=resident, reason=" ", now=NOW)
    assert refused.value.field == "reason"
    with pytest.raises(DomainError, match="start monitoring"):
        services.monitoring_start(actor=admin, resident=resident, reason="Fell", now=NOW)
    with pytest.raises(DomainError) as refused:
        services.monitoring_start(
            actor=med_tech, resident=resident, reason="Fell", now=NOW, hours=0
        )
    assert refused.value.field == "hours"
    assert not MonitoringCheck.objects.exists()


def test_checks_keep_local_shift_hours_across_the_dst_change(facility, med_tech):
    resident = ResidentFactory(facility=facility)
    saturday = datetime.datetime(2026, 3, 7, 15, 0, tzinfo=datetime.UTC)  # 10:00 EST
    services.monitoring_start(actor=med_tech, resident=resident, reason="Fell", now=saturday)
    services.care_tasks_generate(now=saturday + 12 * HOUR)
    night = MonitoringCheck.objects.get(shift_name="night", shift_day=datetime.date(2026, 3, 7))
    assert night.window_opens_at.astimezone(NEW_YORK).strftime("%H:%M") == "23:00"
    assert night.window_closes_at.astimezone(NEW_YORK).strftime("%m-%d %H:%M") == "03-08 07:00"
    assert night.window_closes_at - night.window_opens_at == 7 * HOUR
