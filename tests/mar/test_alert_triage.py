"""The inbox's triage: severity follows the drug, bulk acknowledge with one note, old missed
doses rolled up per resident."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from core.errors import DomainError
from mar import services
from mar.models import Alert, AlertKind, AlertSeverity, AlertState, DoseState, ScheduledDose
from tests.factories import (
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
    scheduled_dose,
)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York (EDT)


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE, username="triage-nurse")


def _overdue_alert(resident, medication, now=NOW) -> Alert:
    order = PrescriptionFactory(resident=resident, medication=medication)
    services.doses_generate(now=now)
    first = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    services.doses_mark_overdue(now=first.window_closes_at + timedelta(minutes=1))
    return Alert.objects.get(dose=first)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, AlertSeverity.WARNING),
        ({"high_alert": "anticoagulant"}, AlertSeverity.URGENT),
        ({"high_alert": "insulin"}, AlertSeverity.URGENT),
        ({"high_alert": "opioid"}, AlertSeverity.URGENT),
        ({"is_time_critical": True}, AlertSeverity.URGENT),
    ],
    ids=["ordinary", "anticoagulant", "insulin", "opioid", "time-critical"],
)
def test_an_overdue_dose_is_urgent_when_its_drug_is_high_alert_or_time_critical(
    resident, fields, expected
):
    alert = _overdue_alert(resident, MedicationFactory(**fields))
    assert (alert.kind, alert.severity) == (AlertKind.OVERDUE_DOSE, expected)


def test_low_supply_ranks_below_an_overdue_dose(facility, resident):
    from mar.selectors import alert_list

    warfarin = _overdue_alert(
        resident, MedicationFactory(name="Warfarin", high_alert="anticoagulant")
    )
    ordinary = Alert.objects.get(pk=_overdue_alert(resident, MedicationFactory()).pk)
    supply = Alert.objects.create(
        facility=facility,
        resident=resident,
        kind=AlertKind.LOW_SUPPLY,
        subject="stock:1:0",
        severity=AlertSeverity.INFO,
        message="Lisinopril: 2 days of supply left",
        created_at=NOW + timedelta(hours=5),  # newer than both
    )
    assert list(alert_list(facility=facility)) == [warfarin, ordinary, supply]


def _alerts(facility, resident, n, kind=AlertKind.PRN_FOLLOWUP):
    return [
        Alert.objects.create(
            facility=facility,
            resident=resident,
            kind=kind,
            subject=f"prn:{900 + i}",
            message="Effectiveness not documented.",
            created_at=NOW,
        )
        for i in range(n)
    ]


def test_bulk_acknowledge_records_one_note_and_the_user_on_each_alert(facility, resident, nurse):
    chosen = _alerts(facility, resident, 3)
    left = _alerts(facility, resident, 1, kind=AlertKind.REFUSALS)
    count = services.alerts_acknowledge(
        actor=nurse,
        facility=facility,
        alert_ids=[a.pk for a in chosen],
        note="Follow-ups done with the evening med tech",
    )
    assert count == 3
    for alert in Alert.objects.filter(pk__in=[a.pk for a in chosen]):
        assert alert.state == AlertState.ACKNOWLEDGED
        assert alert.acknowledged_by == nurse
        assert alert.acknowledgement_note == "Follow-ups done with the evening med tech"
        assert alert.acknowledged_at is not None
    assert Alert.objects.get(pk=left[0].pk).state == AlertState.OPEN
    # Audited: each acknowledgement is an update event with the note.
    events = Alert.pgh_event_model.objects.filter(pgh_obj_id__in=[a.pk for a in chosen])
    assert {e.acknowledgement_note for e in events} == {"Follow-ups done with the evening med tech"}


@pytest.mark.parametrize("note", ["", "   "])
def test_bulk_acknowledge_without_a_note_changes_nothing(facility, resident, nurse, note):
    chosen = _alerts(facility, resident, 2)
    with pytest.raises(DomainError) as refused:
        services.alerts_acknowledge(
            actor=nurse, facility=facility, alert_ids=[a.pk for a in chosen], note=note
        )
    assert refused.value.field == "note"
    assert set(Alert.objects.values_list("state", flat=True)) == {AlertState.OPEN}


def test_bulk_acknowledge_ignores_another_facilitys_alerts(
    facility, other_facility, resident, nurse
):
    theirs = _alerts(other_facility, ResidentFactory(facility=other_facility), 1)
    with pytest.raises(DomainError):
        services.alerts_acknowledge(
            actor=nurse, facility=facility, alert_ids=[theirs[0].pk], note="Seen"
        )
    assert Alert.objects.get(pk=theirs[0].pk).state == AlertState.OPEN


def missed_alerts(resident, days: int, *, now=NOW, **order_fields) -> list[Alert]:
    """One missed dose alert per day for `days` days before `now`, raised an hour after it."""
    order = PrescriptionFactory(
        resident=resident,
        times=[datetime(2026, 1, 1, 8).time()],
        start_date=(now - timedelta(days=days + 1)).date(),
        active_since=now - timedelta(days=days + 1),
        **order_fields,
    )
    alerts = []
    for day in range(days, 0, -1):
        due = now - timedelta(days=day)
        dose = scheduled_dose(order, due, state=DoseState.MISSED)
        alerts.append(
            Alert.objects.create(
                facility=resident.facility,
                resident=resident,
                dose=dose,
                kind=AlertKind.MISSED_DOSE,
                subject=f"dose:{dose.pk}",
                severity=AlertSeverity.URGENT,
                message="Missed dose: nothing documented",
                created_at=due + timedelta(hours=1),
            )
        )
    return alerts


def test_missed_doses_past_the_review_period_roll_into_one_item_per_resident(facility, resident):
    other = ResidentFactory(facility=facility, unit=resident.unit, first_name="Grace")
    mine = missed_alerts(resident, 5)  # 5 days: 4 older than 24 h, yesterday's within
    theirs = missed_alerts(other, 2)

    gathered = services.alerts_roll_up_missed(now=NOW)

    rollups = Alert.objects.filter(kind=AlertKind.MISSED_ROLLUP)
    assert gathered == 4 + 1
    assert {r.resident_id for r in rollups} == {resident.pk, other.pk}
    mine_rollup = rollups.get(resident=resident)
    assert mine_rollup.state == AlertState.OPEN
    assert list(mine_rollup.rolled_up.order_by("pk")) == mine[:4]
    # The count and the oldest and newest dose, in the facility's time (08:00 New York).
    assert mine_rollup.message == (
        "4 missed doses not reviewed, due from 2026-06-05 08:00 to 2026-06-08 08:00."
    )
    assert Alert.objects.get(pk=mine[4].pk).rolled_into is None  # within the review period
    assert (
        rollups.get(resident=other).message == "1 missed dose not reviewed, due 2026-06-08 08:00."
    )
    assert Alert.objects.get(pk=theirs[1].pk).rolled_into is None

    # Twice changes nothing.
    assert services.alerts_roll_up_missed(now=NOW) == 0
    assert Alert.objects.filter(kind=AlertKind.MISSED_ROLLUP).count() == 2


def test_a_later_missed_dose_joins_the_open_roll_up(facility, resident):
    mine = missed_alerts(resident, 5)
    services.alerts_roll_up_missed(now=NOW)
    services.alerts_roll_up_missed(now=NOW + timedelta(hours=12))  # yesterday's is now old
    rollup = Alert.objects.get(kind=AlertKind.MISSED_ROLLUP)
    assert rollup.rolled_up.count() == 5
    assert Alert.objects.get(pk=mine[4].pk).rolled_into == rollup
    assert rollup.message.startswith("5 missed doses not reviewed, due from 2026-06-05 08:00")


def test_the_review_period_is_the_facilitys(facility, resident):
    facility.missed_dose_review_hours = 24 * 4
    facility.save(update_fields=["missed_dose_review_hours"])
    missed_alerts(resident, 5)
    assert services.alerts_roll_up_missed(now=NOW) == 1  # only the 5-day-old one


def test_acknowledging_the_roll_up_acknowledges_its_doses_alerts(facility, resident, nurse):
    mine = missed_alerts(resident, 3)
    services.alerts_roll_up_missed(now=NOW)
    rollup = Alert.objects.get(kind=AlertKind.MISSED_ROLLUP)
    services.alerts_acknowledge(
        actor=nurse, facility=facility, alert_ids=[rollup.pk], note="Reviewed with the MAR"
    )
    for alert in Alert.objects.filter(pk__in=[a.pk for a in mine[:2]] + [rollup.pk]):
        assert (alert.state, alert.acknowledged_by, alert.acknowledgement_note) == (
            AlertState.ACKNOWLEDGED,
            nurse,
            "Reviewed with the MAR",
        )
    # A missed dose that ages after the roll-up was worked starts a new one.
    services.alerts_roll_up_missed(now=NOW + timedelta(days=1))
    assert Alert.objects.filter(kind=AlertKind.MISSED_ROLLUP, state=AlertState.OPEN).count() == 1
    assert Alert.objects.get(pk=mine[2].pk).rolled_into.state == AlertState.OPEN


def test_resolving_the_roll_up_resolves_its_doses_alerts(facility, resident, nurse):
    mine = missed_alerts(resident, 3)
    services.alerts_roll_up_missed(now=NOW)
    rollup = Alert.objects.get(kind=AlertKind.MISSED_ROLLUP)
    services.alert_resolve(actor=nurse, alert=rollup, note="Physician informed")
    assert set(
        Alert.objects.filter(pk__in=[a.pk for a in mine[:2]]).values_list("state", flat=True)
    ) == {AlertState.RESOLVED}


def test_the_beat_job_rolls_up(facility, resident):
    missed_alerts(resident, 3)
    assert services.alerts_raise_followups(now=NOW)["missed_rollup"] == 2
