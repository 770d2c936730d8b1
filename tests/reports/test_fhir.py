"""The FHIR R4 export: a valid Bundle that says what the MAR says, read in constant queries."""

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Role
from mar import services
from mar.models import ScheduledDose
from meds.models import HoldParameter
from reports import fhir
from reports.fhir import resident_bundle
from tests.factories import (
    CertificationFactory,
    MedicationFactory,
    PrescriptionFactory,
    ResidentFactory,
    member,
)

NOW = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # 08:05 in New York
START = datetime(2026, 6, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture
def aide(facility):
    user = member(facility, Role.MED_TECH, first_name="Maria", last_name="Lopez")
    CertificationFactory(
        user=user, issued=datetime(2025, 1, 1).date(), expires=datetime(2027, 1, 1).date()
    )
    return user


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE, first_name="Nina", last_name="Patel")


@pytest.fixture
def daily_order(resident):
    medication = MedicationFactory(
        name="Lisinopril", strength="10 mg", ndc="68180-0513-01", barcode="368180051301"
    )
    order = PrescriptionFactory(
        resident=resident,
        medication=medication,
        prescriber="Dr. Rebecca Hayes",
        indication="Hypertension",
    )
    HoldParameter.objects.create(
        prescription=order, vital="systolic_bp", comparator="lt", threshold=Decimal("100")
    )
    return order


@pytest.fixture
def weekday_order(resident):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Vitamin D3", strength="50,000 IU", form="capsule"),
        dose_unit="capsule",
        times=[time(9)],
        recurrence="weekdays",
        weekdays=[1, 3, 5],
        stop_date=datetime(2026, 12, 31).date(),
    )


@pytest.fixture
def prn_order(resident):
    return PrescriptionFactory(
        resident=resident,
        medication=MedicationFactory(name="Acetaminophen", strength="500 mg"),
        dose_amount=Decimal("2"),
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("0.5"),
        prn_max_per_24h=4,
        indication="Pain or fever over 100.4 °F",
    )


def _dose(order, due_at):
    services.doses_generate(now=due_at - timedelta(hours=1))
    return ScheduledDose.objects.get(prescription=order, due_at=due_at)


def _record(actor, dose, status, now, **fields):
    return services.administration_record(
        actor=actor, dose=dose, status=status, idempotency_key=uuid.uuid4(), now=now, **fields
    ).administration


def _prn(actor, order, now, reason="Knee pain 6 of 10"):
    return services.prn_give(
        actor=actor, prescription=order, idempotency_key=uuid.uuid4(), prn_reason=reason, now=now
    ).administration


@pytest.fixture
def history(aide, nurse, daily_order, weekday_order, prn_order):
    """Given, refused, given-then-entered-in-error, late, and a PRN with its follow-up."""
    vitals = {"systolic_bp": "128"}
    given = _record(aide, _dose(daily_order, NOW.replace(minute=0)), "given", NOW, vitals=vitals)
    evening = datetime(2026, 6, 11, 0, 0, tzinfo=UTC)  # 20:00 New York, 10 June
    refused = _record(
        aide, _dose(daily_order, evening), "refused", evening, reason="Resident declined"
    )
    morning = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
    voided = _record(
        aide, _dose(daily_order, morning), "given", morning + timedelta(minutes=3), vitals=vitals
    )
    services.amendment_create(
        actor=nurse,
        administration=voided,
        kind="entered_in_error",
        reason="Charted on the wrong resident",
        changes={},
        now=morning + timedelta(minutes=30),
    )
    late = _record(
        aide,
        _dose(weekday_order, datetime(2026, 6, 10, 13, 0, tzinfo=UTC)),
        "given",
        datetime(2026, 6, 10, 14, 30, tzinfo=UTC),
        late_reason="Resident at a medical appointment",
    )
    prn = _prn(aide, prn_order, datetime(2026, 6, 10, 15, 0, tzinfo=UTC))
    services.prn_followup_record(
        actor=nurse,
        administration=prn,
        result="effective",
        now=prn.administered_at + timedelta(hours=1),
    )
    return {"given": given, "refused": refused, "voided": voided, "late": late, "prn": prn}


def _by_type(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _administration(bundle: dict, record) -> dict:
    order_url = next(
        e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
        and e["resource"]["medicationCodeableConcept"]["text"]
        == str(record.prescription.medication)
    )
    effective = record.administered_at.astimezone(UTC).isoformat(timespec="seconds")
    return next(
        r
        for r in _by_type(bundle, "MedicationAdministration")
        if r["request"]["reference"] == order_url
        and r["effectiveDateTime"] == effective.replace("+00:00", "Z")
    )


def test_the_bundle_is_valid_fhir_r4_and_every_entry_validates_as_its_type(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    # A round trip through JSON, as a receiving system would read the download.
    data = json.loads(json.dumps(bundle))
    parsed = Bundle.model_validate(data)
    assert parsed.type == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in data["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("MedicationRequest") == 3
    assert kinds.count("MedicationAdministration") == 5
    for entry, parsed_entry in zip(data["entry"], parsed.entry, strict=True):
        kind = entry["resource"]["resourceType"]
        get_fhir_model_class(kind).model_validate(entry["resource"])
        assert type(parsed_entry.resource).__name__ == kind
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    assert len({e["fullUrl"] for e in data["entry"]}) == len(data["entry"])


def test_the_patient_carries_the_wristband_name_and_birth_date(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    (patient,) = _by_type(bundle, "Patient")
    assert patient["identifier"] == [
        {"use": "usual", "system": "urn:medtech:wristband", "value": resident.wristband_code}
    ]
    assert patient["name"][0] == {"use": "official", "family": "Byron", "given": ["Ada"]}
    assert patient["birthDate"] == "1940-05-17"
    assert "gender" not in patient


def test_identifiers_are_stable_between_exports(resident, history):
    first = resident_bundle(resident=resident, start=START, end=END)
    second = resident_bundle(resident=resident, start=START, end=END)

    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    assert first["id"] == second["id"]


def test_a_scheduled_order_has_its_coding_dose_route_and_prescriber(resident, daily_order, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    request = next(
        r
        for r in _by_type(bundle, "MedicationRequest")
        if r["medicationCodeableConcept"]["text"] == "Lisinopril 10 mg tablet"
    )
    assert request["status"] == "active"
    assert request["intent"] == "order"
    assert request["medicationCodeableConcept"]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/ndc",
            "code": "68180-0513-01",
            "display": "Lisinopril 10 mg tablet",
        }
    ]
    assert request["requester"] == {"display": "Dr. Rebecca Hayes"}
    assert request["subject"]["reference"] == bundle["entry"][0]["fullUrl"]
    (dosage,) = request["dosageInstruction"]
    assert dosage["timing"]["repeat"]["timeOfDay"] == ["08:00:00", "20:00:00"]
    assert dosage["timing"]["repeat"]["frequency"] == 2
    assert dosage["timing"]["repeat"]["boundsPeriod"] == {"start": "2026-01-01"}
    assert dosage["route"] == {"text": "By mouth"}
    assert dosage["doseAndRate"] == [{"doseQuantity": {"value": 1, "unit": "tablet"}}]
    assert {"text": "Hold if Systolic BP below 100 mmHg"} in dosage["additionalInstruction"]
    assert "asNeededBoolean" not in dosage
    assert "asNeededCodeableConcept" not in dosage


def test_a_mon_wed_fri_order_has_days_of_week_and_time_of_day(resident, weekday_order, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    request = next(
        r
        for r in _by_type(bundle, "MedicationRequest")
        if r["medicationCodeableConcept"]["text"].startswith("Vitamin D3")
    )
    repeat = request["dosageInstruction"][0]["timing"]["repeat"]
    assert repeat["dayOfWeek"] == ["mon", "wed", "fri"]
    assert repeat["timeOfDay"] == ["09:00:00"]
    assert repeat["boundsPeriod"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert "coding" not in request["medicationCodeableConcept"]


def test_an_every_other_day_order_has_frequency_and_period(resident):
    PrescriptionFactory(
        resident=resident, times=[time(12)], recurrence="every_n_days", every_n_days=2
    )

    bundle = resident_bundle(resident=resident, start=START, end=END)

    (request,) = _by_type(bundle, "MedicationRequest")
    repeat = request["dosageInstruction"][0]["timing"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 2, "d")
    assert "dayOfWeek" not in repeat


def test_a_prn_order_has_as_needed_and_a_maximum_per_24_hours(resident, prn_order, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    request = next(
        r
        for r in _by_type(bundle, "MedicationRequest")
        if r["medicationCodeableConcept"]["text"].startswith("Acetaminophen")
    )
    (dosage,) = request["dosageInstruction"]
    assert dosage["asNeededCodeableConcept"] == {"text": "Pain or fever over 100.4 °F"}
    assert dosage["maxDosePerPeriod"] == {
        "numerator": {"value": 8, "unit": "tablet"},
        "denominator": {
            "value": 24,
            "unit": "h",
            "system": "http://unitsofmeasure.org",
            "code": "h",
        },
    }
    assert dosage["doseAndRate"] == [{"doseQuantity": {"value": 2, "unit": "tablet"}}]


def test_a_prn_order_without_indication_is_as_needed_boolean(resident):
    PrescriptionFactory(
        resident=resident,
        is_prn=True,
        times=[],
        prn_min_hours=Decimal("4"),
        prn_max_per_24h=3,
    )

    bundle = resident_bundle(resident=resident, start=START, end=END)

    (request,) = _by_type(bundle, "MedicationRequest")
    assert request["dosageInstruction"][0]["asNeededBoolean"] is True


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", "active"),
        ("on_hold", "on-hold"),
        ("discontinued", "stopped"),
        ("pending", "draft"),
    ],
)
def test_order_status_maps_to_the_request_status(resident, status, expected):
    PrescriptionFactory(resident=resident, status=status)

    bundle = resident_bundle(resident=resident, start=START, end=END)

    assert _by_type(bundle, "MedicationRequest")[0]["status"] == expected


def test_a_given_dose_is_completed_with_performer_dose_and_request(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    given = _administration(bundle, history["given"])
    assert given["status"] == "completed"
    assert given["effectiveDateTime"] == "2026-06-10T12:05:00Z"
    assert given["performer"] == [{"actor": {"display": "Maria Lopez"}}]
    assert given["dosage"]["dose"] == {"value": 1, "unit": "tablet"}
    assert "statusReason" not in given
    assert {"text": "Vitals: systolic_bp 128"} in given["note"]


def test_a_refused_dose_is_not_done_with_its_reason(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    refused = _administration(bundle, history["refused"])
    assert refused["status"] == "not-done"
    assert refused["statusReason"] == [{"text": "Refused: Resident declined"}]
    assert "dose" not in refused["dosage"]


def test_a_voided_record_is_entered_in_error_with_the_amendment(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    voided = _administration(bundle, history["voided"])
    assert voided["status"] == "entered-in-error"
    assert any(
        "Entered in error by Nina Patel" in note["text"]
        and "Charted on the wrong resident" in note["text"]
        for note in voided["note"]
    )


def test_late_and_prn_reasons_are_notes(resident, history):
    bundle = resident_bundle(resident=resident, start=START, end=END)

    late = _administration(bundle, history["late"])
    assert {"text": "Late: Resident at a medical appointment"} in late["note"]
    prn = _administration(bundle, history["prn"])
    assert prn["status"] == "completed"
    assert prn["reasonCode"] == [{"text": "Knee pain 6 of 10"}]
    assert {"text": "PRN reason: Knee pain 6 of 10"} in prn["note"]
    assert any(note["text"].endswith(": effective") for note in prn["note"])


def test_only_administrations_in_the_period_are_exported(resident, history):
    # [10 June 13:00Z, 11 June 06:00Z): the late dose, the PRN and the refusal.
    bundle = resident_bundle(
        resident=resident,
        start=datetime(2026, 6, 10, 13, 0, tzinfo=UTC),
        end=datetime(2026, 6, 11, 6, 0, tzinfo=UTC),
    )

    administrations = _by_type(bundle, "MedicationAdministration")
    assert sorted(a["effectiveDateTime"] for a in administrations) == [
        "2026-06-10T14:30:00Z",
        "2026-06-10T15:00:00Z",
        "2026-06-11T00:00:00Z",
    ]
    # Orders are exported whatever the period.
    assert len(_by_type(bundle, "MedicationRequest")) == 3


def test_query_count_does_not_grow_with_the_administrations(resident, aide, prn_order):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            resident_bundle(resident=resident, start=START, end=END)
        return len(captured)

    _prn(aide, prn_order, datetime(2026, 6, 2, 12, 0, tzinfo=UTC))
    few = count()
    orders = [PrescriptionFactory(resident=resident) for _ in range(3)]
    for day in range(3, 23):
        _prn(aide, prn_order, datetime(2026, 6, day, 12, 0, tzinfo=UTC))
    for order in orders:
        HoldParameter.objects.create(
            prescription=order, vital="pulse", comparator="lt", threshold=Decimal("60")
        )

    assert count() == few


# The page ----------------------------------------------------------------------------------


def test_the_export_downloads_as_fhir_json(nurse_client, resident, prn_order, aide):
    _prn(aide, prn_order, timezone.now() - timedelta(days=40))
    recent = _prn(aide, prn_order, timezone.now() - timedelta(hours=2))

    response = nurse_client.get(reverse("resident_fhir", args=[resident.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="resident-{resident.pk}-fhir-'
    )
    data = json.loads(response.content)
    Bundle.model_validate(data)
    # By default, the last 30 days only.
    (administration,) = _by_type(data, "MedicationAdministration")
    assert administration["id"] == str(fhir._uuid("administration", recent.pk))


def test_the_export_takes_a_period_in_local_days(nurse_client, resident, history):
    url = reverse("resident_fhir", args=[resident.pk])

    response = nurse_client.get(url, {"start": "2026-06-11", "end": "2026-06-11"})

    data = json.loads(response.content)
    # 11 June in New York: the entry later voided (08:03); the refusal at 20:00 on the 10th is not.
    (administration,) = _by_type(data, "MedicationAdministration")
    assert administration["status"] == "entered-in-error"
    assert "20260611-20260611" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "query",
    [
        {"start": "yesterday", "end": "2026-13-45"},
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"start": "2026-06-30", "end": "2026-06-01"},
        {"start": "", "end": ""},
    ],
)
def test_bad_dates_fall_back_without_an_error(nurse_client, resident, query):
    response = nurse_client.get(reverse("resident_fhir", args=[resident.pk]), query)

    assert response.status_code == 200
    Bundle.model_validate(json.loads(response.content))


def test_a_med_tech_may_not_export(medtech_client, resident):
    response = medtech_client.get(reverse("resident_fhir", args=[resident.pk]))

    assert response.status_code == 403
    assert "Only nurses and administrators can export records." in response.content.decode()


def test_another_facilitys_resident_is_404(other_facility, resident):
    nurse = member(other_facility, Role.NURSE)
    client = Client()
    client.force_login(nurse, backend="accounts.backends.StaffBackend")
    ResidentFactory(facility=other_facility)

    response = client.get(reverse("resident_fhir", args=[resident.pk]))

    assert response.status_code == 404
