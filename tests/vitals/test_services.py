"""Every reading goes through one service: checked, judged by its range (the resident's own
first), out of range an exception with an alert the acknowledgement settles; a weight lost
raises one "re-weigh and review"."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError

from accounts.models import Role
from core.errors import DomainError
from mar import services as mar_services
from mar.models import Alert, AlertKind, AlertState, ScheduledDose
from meds.models import HoldParameter
from residents.models import ResidentStatus
from tests.factories import CertificationFactory, FacilityFactory, PrescriptionFactory, member
from vitals import services
from vitals.models import (
    DEFAULT_RANGES,
    ExceptionAcknowledgement,
    ReadingSource,
    VitalException,
    VitalRange,
    VitalReading,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 10, 12, 5, tzinfo=datetime.UTC)  # 08:05 in New York
DAY = datetime.timedelta(days=1)


@pytest.fixture
def caregiver(facility):
    return member(facility, Role.CAREGIVER, username="carol")


def _record(actor, resident, values, at=NOW, source=ReadingSource.FLOWSHEET):
    return services.readings_record(
        actor=actor, resident=resident, values=values, source=source, taken_at=at, now=NOW
    )


def test_a_caregiver_records_several_vitals_at_once(caregiver, resident):
    readings = _record(
        caregiver,
        resident,
        {"pulse": "72", "systolic_bp": "128", "diastolic_bp": "76", "spo2": "", "weight": None},
    )
    assert sorted((r.kind, r.value) for r in readings) == [
        ("diastolic_bp", Decimal("76")),
        ("pulse", Decimal("72")),
        ("systolic_bp", Decimal("128")),
    ]
    stored = VitalReading.objects.filter(resident=resident)
    assert {r.source for r in stored} == {"flowsheet"} and {r.taken_by for r in stored} == {
        caregiver
    }
    assert not VitalException.objects.exists() and not Alert.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"pulse": "7x"}, "pulse", "not a number"),
        ({"temperature": "37"}, "temperature", "cannot be right"),
        ({"spo2": "101"}, "spo2", "cannot be right"),
        ({"pain": "3.5"}, "pain", "whole number"),
        ({"weight": "150.25"}, "weight", "one decimal place"),
        ({"systolic_bp": "70", "diastolic_bp": "120"}, "diastolic_bp", "systolic"),
        ({"pulse": "", "spo2": ""}, None, "at least one"),
        ({"pulse": "NaN"}, "pulse", "not a number"),
    ],
)
def test_a_wrong_value_is_refused_beside_its_field_and_nothing_is_recorded(
    caregiver, resident, values, field, message
):
    with pytest.raises(DomainError, match=message) as refused:
        _record(caregiver, resident, {"pulse": "72", **values} if field != "pulse" else values)
    assert refused.value.field == field
    assert not VitalReading.objects.exists()


def test_an_administrator_reads_the_flowsheet_but_does_not_record_on_it(admin_user, resident):
    with pytest.raises(DomainError, match="nurse, med tech or caregiver"):
        _record(admin_user, resident, {"pulse": "72"})


def test_a_discharged_resident_gets_no_reading(caregiver, resident):
    resident.status = ResidentStatus.DISCHARGED
    with pytest.raises(DomainError, match="discharged"):
        _record(caregiver, resident, {"pulse": "72"})


def test_a_reading_out_of_the_facility_range_is_an_exception_with_an_alert(caregiver, resident):
    readings = _record(caregiver, resident, {"pulse": "118", "spo2": "97"})
    exception = VitalException.objects.get()
    assert exception.reading.kind == "pulse" and exception.reading in readings
    assert (exception.low, exception.high, exception.resident_range) == (50, 110, False)
    alert = Alert.objects.get(kind=AlertKind.VITAL_EXCEPTION)
    assert alert.state == AlertState.OPEN and alert.resident_id == resident.pk
    assert alert.subject == f"vital:{exception.pk}"
    assert "Pulse 118 /min (range 50 to 110 /min)" in alert.message


def test_the_residents_own_range_replaces_the_facilitys(nurse_user, caregiver, resident):
    services.resident_range_save(
        actor=nurse_user, resident=resident, kind="spo2", low="88", high="", note="COPD, usual 90"
    )
    _record(caregiver, resident, {"spo2": "90"})
    assert not VitalException.objects.exists()
    _record(caregiver, resident, {"spo2": "86"})
    exception = VitalException.objects.get()
    assert (exception.low, exception.high, exception.resident_range) == (88, None, True)
    assert "their own range 88 to …" in Alert.objects.get().message


def test_the_facility_range_decides_after_the_own_range_is_removed(nurse_user, caregiver, resident):
    own = services.resident_range_save(
        actor=nurse_user, resident=resident, kind="spo2", low="88", high="100", note="COPD"
    )
    services.resident_range_remove(actor=nurse_user, resident_range=own)
    _record(caregiver, resident, {"spo2": "90"})
    assert VitalException.objects.get().low == 92


def test_only_a_nurse_sets_an_own_range_and_says_why(caregiver, nurse_user, resident):
    with pytest.raises(DomainError, match="Only a nurse"):
        services.resident_range_save(
            actor=caregiver, resident=resident, kind="spo2", low="88", high="", note="COPD"
        )
    with pytest.raises(DomainError, match="why") as refused:
        services.resident_range_save(
            actor=nurse_user, resident=resident, kind="spo2", low="88", high="", note=" "
        )
    assert refused.value.field == "note"
    with pytest.raises(DomainError, match="low end is below") as refused:
        services.resident_range_save(
            actor=nurse_user, resident=resident, kind="spo2", low="95", high="90", note="x"
        )
    assert refused.value.field == "high"


def test_acknowledging_settles_the_alert_once(caregiver, nurse_user, facility, resident):
    _record(caregiver, resident, {"temperature": "101.2"})
    exception = VitalException.objects.get()
    with pytest.raises(DomainError, match="Write what you did") as refused:
        services.exception_acknowledge(actor=nurse_user, exception=exception, note="  ")
    assert refused.value.field == "note"
    with pytest.raises(DomainError, match="Only a nurse"):
        services.exception_acknowledge(actor=caregiver, exception=exception, note="Seen")
    services.exception_acknowledge(
        actor=nurse_user, exception=exception, note="Tylenol per order, recheck 1 h", now=NOW
    )
    alert = Alert.objects.get(kind=AlertKind.VITAL_EXCEPTION)
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == nurse_user
    assert alert.resolution_note == "Tylenol per order, recheck 1 h"
    second = member(facility, Role.NURSE, first_name="Nina", last_name="Other")
    with pytest.raises(DomainError, match="acknowledged this reading already"):
        services.exception_acknowledge(actor=second, exception=exception, note="Me too")
    assert ExceptionAcknowledgement.objects.get().by == nurse_user


def test_an_acknowledgement_and_an_exception_are_never_edited(caregiver, nurse_user, resident):
    _record(caregiver, resident, {"temperature": "101.2"})
    exception = VitalException.objects.get()
    services.exception_acknowledge(actor=nurse_user, exception=exception, note="Seen")
    for statement in (
        "UPDATE vitals_exceptionacknowledgement SET note = 'changed'",
        "DELETE FROM vitals_exceptionacknowledgement",
        "UPDATE vitals_vitalexception SET low = 1",
        "DELETE FROM vitals_vitalexception",
    ):
        with (
            pytest.raises((InternalError, ProgrammingError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert ExceptionAcknowledgement.objects.get().note == "Seen"


def _weigh(actor, resident, value, at):
    return _record(actor, resident, {"weight": value}, at=at)


def _weight_alerts(resident):
    return Alert.objects.filter(kind=AlertKind.WEIGHT_LOSS, resident=resident)


def test_a_five_percent_loss_in_30_days_raises_one_reweigh_alert(caregiver, nurse_user, resident):
    _weigh(caregiver, resident, "160", NOW - 31 * DAY)
    _weigh(caregiver, resident, "155", NOW - 7 * DAY)
    assert not _weight_alerts(resident).exists()
    latest = _weigh(caregiver, resident, "151.5", NOW)[0]  # 5.3% below 160
    alert = _weight_alerts(resident).get()
    assert alert.subject == f"weight:{resident.pk}:{latest.pk}" and alert.state == "open"
    assert "5.3% weight loss in 30 days: 160 → 151.5 lb" in alert.message
    assert "Re-weigh and review" in alert.message
    _weigh(caregiver, resident, "150", NOW)  # another loss while it is open: still one
    assert _weight_alerts(resident).count() == 1
    mar_services.alert_resolve(actor=nurse_user, alert=alert, note="Re-weighed, dietitian told")
    _weigh(caregiver, resident, "150", NOW + datetime.timedelta(minutes=1))
    assert _weight_alerts(resident).exclude(state=AlertState.RESOLVED).count() == 1


def test_a_series_is_judged_in_time_order_as_single_readings_would_be(caregiver, resident):
    """The demo's bulk path: five weekly weights in one call make the alert one by one would."""
    services.readings_record_series(
        actor=caregiver,
        resident=resident,
        series=[(NOW - (28 - 7 * week) * DAY, {"weight": str(180 - 3 * week)}) for week in range(5)]
        + [(NOW - 35 * DAY, {"weight": "181"})],
        source=ReadingSource.FLOWSHEET,
        now=NOW,
    )
    alert = _weight_alerts(resident).get()  # 181 (day -35) → 168 (day -7) is 7.2% in 30 days
    first_loss = VitalReading.objects.get(resident=resident, value=Decimal("168"))
    assert alert.subject.endswith(f":{first_loss.pk}")


def test_a_new_facility_starts_with_the_default_ranges(db):
    facility = FacilityFactory()
    assert {
        r.kind: (r.low, r.high) for r in VitalRange.objects.filter(facility=facility)
    } == DEFAULT_RANGES


def test_the_migration_gave_existing_facilities_the_same_ranges():
    from importlib import import_module

    frozen = import_module("vitals.migrations.0003_default_ranges").STARTING_RANGES
    assert {
        kind: (Decimal(low) if low else None, Decimal(high) if high else None)
        for kind, low, high in frozen
    } == DEFAULT_RANGES


def test_only_an_administrator_changes_a_facility_range(admin_user, nurse_user, facility):
    with pytest.raises(DomainError, match="Only an administrator"):
        services.vital_range_save(
            actor=nurse_user, facility=facility, kind="pulse", low="40", high=""
        )
    saved = services.vital_range_save(
        actor=admin_user, facility=facility, kind="pulse", low="45", high=""
    )
    assert (saved.low, saved.high) == (45, None)
    with pytest.raises(DomainError, match="low end") as refused:
        services.vital_range_save(
            actor=admin_user, facility=facility, kind="pulse", low="x", high=""
        )
    assert refused.value.field == "low"


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(
        user=user, issued=datetime.date(2025, 1, 1), expires=datetime.date(2027, 1, 1)
    )
    return user


def test_a_med_pass_reading_out_of_range_is_an_exception_too(aide, resident):
    order = PrescriptionFactory(resident=resident)
    HoldParameter.objects.create(prescription=order, vital="pulse", comparator="lt", threshold=60)
    mar_services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    result = mar_services.administration_record(
        actor=aide,
        dose=dose,
        status="given",
        idempotency_key=uuid.uuid4(),
        now=NOW,
        vitals={"pulse": "46"},
    )
    assert result.administration.status == "held"
    reading = result.administration.readings.get()
    assert reading.source == "med_pass" and reading.exception.high == 110
    assert Alert.objects.filter(kind=AlertKind.VITAL_EXCEPTION, resident=resident).exists()


def test_a_med_pass_reading_is_checked_beside_its_field(aide, resident):
    order = PrescriptionFactory(resident=resident)
    mar_services.doses_generate(now=NOW)
    dose = ScheduledDose.objects.filter(prescription=order).order_by("due_at").first()
    with pytest.raises(DomainError, match="cannot be right") as refused:
        mar_services.administration_record(
            actor=aide,
            dose=dose,
            status="given",
            idempotency_key=uuid.uuid4(),
            now=NOW,
            vitals={"temperature": "37.2"},
        )
    assert refused.value.field == "vital_temperature"
    assert not VitalReading.objects.exists()
    assert connection.in_atomic_block  # the test's transaction, nothing leaked
