"""Vital readings: the kinds, which of them the med pass asks for, and rows that never change."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from accounts.models import Role
from core.errors import DomainError
from mar.forms import DoseRecordForm, PrnGiveForm
from meds.forms import OrderForm
from meds.models import HoldParameter
from tests.factories import (
    CertificationFactory,
    PrescriptionFactory,
    member,
    record_dose,
    scheduled_dose,
)
from vitals.models import HOLD_VITALS, VITAL_UNITS, ReadingSource, VitalReading, VitalSign

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 08:00 in New York
ORIGINAL_SEVEN = {
    "systolic_bp",
    "diastolic_bp",
    "pulse",
    "temperature",
    "respirations",
    "spo2",
    "blood_glucose",
}


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH)
    CertificationFactory(user=user, issued=date(2025, 1, 1), expires=date(2027, 1, 1))
    return user


def test_every_kind_has_a_unit_and_pain_and_weight_are_kinds():
    assert set(VITAL_UNITS) == set(VitalSign)
    assert (VITAL_UNITS[VitalSign.PAIN], VITAL_UNITS[VitalSign.WEIGHT]) == ("/10", "lb")


def test_hold_parameters_and_the_med_pass_offer_only_the_seven_hold_vitals():
    assert set(HOLD_VITALS) == ORIGINAL_SEVEN
    hold_choices = {value for value, _ in HoldParameter._meta.get_field("vital").choices}
    assert hold_choices == ORIGINAL_SEVEN
    order_form_choices = {value for value, _ in OrderForm().fields["hold_0_vital"].choices}
    assert order_form_choices == ORIGINAL_SEVEN | {""}
    for form in (DoseRecordForm(), PrnGiveForm()):
        inputs = {name for name in form.fields if name.startswith("vital_")}
        assert inputs == {f"vital_{kind}" for kind in ORIGINAL_SEVEN}


def test_the_med_pass_refuses_a_pain_or_weight_reading(aide, resident):
    dose = scheduled_dose(PrescriptionFactory(resident=resident), DUE)
    for kind in ("pain", "weight"):
        with pytest.raises(DomainError, match="Unknown vital sign"):
            record_dose(aide, dose, vitals={kind: "3"})
    assert not VitalReading.objects.exists()


def test_the_med_pass_writes_its_readings_as_med_pass_linked_to_the_record(aide, resident):
    dose = scheduled_dose(PrescriptionFactory(resident=resident), DUE)
    record = record_dose(aide, dose, vitals={"pulse": "72", "systolic_bp": "128"})
    readings = VitalReading.objects.filter(resident=resident)
    assert {(r.kind, r.value, r.source, r.taken_by_id) for r in readings} == {
        ("pulse", Decimal("72"), ReadingSource.MED_PASS, aide.pk),
        ("systolic_bp", Decimal("128"), ReadingSource.MED_PASS, aide.pk),
    }
    assert set(record.readings.all()) == set(readings)
    assert record.vitals == {"pulse": "72", "systolic_bp": "128"}


def test_a_record_without_readings_links_none(aide, resident):
    record = record_dose(aide, scheduled_dose(PrescriptionFactory(resident=resident), DUE))
    assert not record.readings.exists() and not VitalReading.objects.exists()


def test_a_reading_is_append_only_and_audited(aide, resident):
    reading = VitalReading.objects.create(
        resident=resident,
        kind=VitalSign.WEIGHT,
        value=Decimal("151.5"),
        taken_at=DUE,
        taken_by=aide,
        source=ReadingSource.FLOWSHEET,
    )
    for sql in (
        "UPDATE vitals_vitalreading SET value = 150 WHERE id = %s",
        "DELETE FROM vitals_vitalreading WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [reading.pk])
    reading.refresh_from_db()
    assert reading.value == Decimal("151.5")
    assert [(e.pgh_label, e.source) for e in reading.events.all()] == [("insert", "flowsheet")]
