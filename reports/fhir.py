"""A resident's orders and administrations, service plans and documented care, changes of
condition, appointments and vital signs as one FHIR R4 Bundle (type "collection"); the care
resources are reports/fhir_care.py's, the changes of condition reports/fhir_clinical.py's, the
vital signs' Observations reports/fhir_vitals.py's, the Appointments
reports/fhir_appointments.py's.

Plain dictionaries, ready for `json.dumps`: the app does not depend on a FHIR library (the tests
validate the output with one). Every entry's `fullUrl` is a `urn:uuid:` made with uuid5 from the
object's id, so exporting the same records twice gives the same identifiers.

Read with a fixed number of queries whatever the number of orders and administrations.
"""

import datetime
import uuid
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from mar.models import Administration, AdminStatus, Amendment
from meds.models import OrderStatus, Prescription, Recurrence
from residents.models import Resident, ResidentStatus

from .fhir_appointments import appointment_entries
from .fhir_care import care_entries
from .fhir_clinical import clinical_entries
from .fhir_vitals import vital_entries

WRISTBAND_SYSTEM = "urn:medtech:wristband"
NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:medtech:emar")

_REQUEST_STATUS = {
    OrderStatus.ACTIVE: "active",
    OrderStatus.ON_HOLD: "on-hold",
    OrderStatus.DISCONTINUED: "stopped",
    OrderStatus.PENDING: "draft",
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _uuid(kind: str, pk: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{pk}"))


def _full_url(kind: str, pk: int) -> str:
    return f"urn:uuid:{_uuid(kind, pk)}"


def _instant(moment: datetime.datetime) -> str:
    """UTC, to the second, as FHIR dateTime/instant: 2026-06-10T12:05:00Z."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Decimal | int | float) -> int | float:
    """A JSON number (FHIR decimals are numbers, never strings)."""
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def _medication_concept(medication) -> dict:
    concept = {"text": str(medication)}
    if medication.ndc:
        concept["coding"] = [
            {"system": NDC_SYSTEM, "code": medication.ndc, "display": str(medication)}
        ]
    return concept


def _patient(resident: Resident) -> dict:
    names = [{"use": "official", "family": resident.last_name, "given": [resident.first_name]}]
    if resident.preferred_name:
        names.append({"use": "nickname", "given": [resident.preferred_name]})
    # The resident record keeps no sex or gender, so `gender` is left out (unknown).
    return {
        "resourceType": "Patient",
        "id": _uuid("resident", resident.pk),
        "identifier": [
            {
                "use": "usual",
                "system": WRISTBAND_SYSTEM,
                "value": resident.wristband_code,
            }
        ],
        "active": resident.status != ResidentStatus.DISCHARGED,
        "name": names,
        "birthDate": resident.date_of_birth.isoformat(),
        "managingOrganization": {"display": resident.facility.name},
    }


def _repeat(order: Prescription) -> dict:
    repeat: dict = {"boundsPeriod": {"start": order.start_date.isoformat()}}
    if order.stop_date:
        repeat["boundsPeriod"]["end"] = order.stop_date.isoformat()
    if order.is_prn:
        # At most one dose per minimum interval; the 24-hour ceiling is maxDosePerPeriod.
        repeat.update(frequency=1, period=_number(order.prn_min_hours), periodUnit="h")
        return repeat
    repeat["timeOfDay"] = [t.strftime("%H:%M:%S") for t in sorted(order.times)]
    if order.recurrence == Recurrence.WEEKDAYS:
        repeat["dayOfWeek"] = [_DAYS[day - 1] for day in sorted(order.weekdays)]
    elif order.recurrence == Recurrence.EVERY_N_DAYS:
        repeat.update(frequency=len(order.times), period=order.every_n_days, periodUnit="d")
    elif order.recurrence == Recurrence.MONTH_DAYS:
        # FHIR has no day-of-month element: the count per month here, the days in Timing.code.
        repeat.update(frequency=len(order.times) * len(order.month_days), period=1, periodUnit="mo")
    else:
        repeat.update(frequency=len(order.times), period=1, periodUnit="d")
    return repeat


def _dosage_instruction(order: Prescription) -> dict:
    dosage: dict = {
        "text": f"{order.dose_text}, {order.schedule_text}"
        + (f". {order.instructions}" if order.instructions else ""),
        "timing": {"repeat": _repeat(order), "code": {"text": order.schedule_text}},
        "route": {"text": order.get_route_display()},
        "doseAndRate": [
            {"doseQuantity": {"value": _number(order.dose_amount), "unit": order.dose_unit}}
        ],
    }
    extra = [{"text": str(rule)} for rule in order.hold_parameters.all()]
    if order.instructions:
        extra.append({"text": order.instructions})
    if extra:
        dosage["additionalInstruction"] = extra
    if order.is_prn:
        if order.indication:
            dosage["asNeededCodeableConcept"] = {"text": order.indication}
        else:
            dosage["asNeededBoolean"] = True
        dosage["maxDosePerPeriod"] = {
            "numerator": {
                "value": _number(order.dose_amount * order.prn_max_per_24h),
                "unit": order.dose_unit,
            },
            "denominator": {"value": 24, "unit": "h", "system": UCUM, "code": "h"},
        }
    return dosage


def _medication_request(order: Prescription, patient_ref: dict) -> dict:
    request = {
        "resourceType": "MedicationRequest",
        "id": _uuid("order", order.pk),
        "status": _REQUEST_STATUS[OrderStatus(order.status)],
        "intent": "order",
        "medicationCodeableConcept": _medication_concept(order.medication),
        "subject": patient_ref,
        "authoredOn": _instant(order.entered_at),
        "requester": {"display": order.prescriber},
        "dosageInstruction": [_dosage_instruction(order)],
    }
    if order.indication and not order.is_prn:
        request["reasonCode"] = [{"text": order.indication}]
    if order.replaces_id:
        request["priorPrescription"] = {"reference": _full_url("order", order.replaces_id)}
    return request


def _status_reason(record: Administration) -> str:
    label = AdminStatus(record.status).label
    detail = record.hold_triggered or record.reason
    if record.status == AdminStatus.OTHER and record.other_code:
        label = f"{label} ({record.other_code})"
    return f"{label}: {detail}" if detail else label


def _notes(record: Administration) -> list[dict]:
    notes = []
    if record.late_reason:
        notes.append(f"Late: {record.late_reason}")
    if record.early_reason:
        notes.append(f"Early: {record.early_reason}")
    if record.prn_reason:
        notes.append(f"PRN reason: {record.prn_reason}")
    if record.vitals:
        readings = ", ".join(f"{kind} {value}" for kind, value in sorted(record.vitals.items()))
        notes.append(f"Vitals: {readings}")
    if record.notes:
        notes.append(record.notes)
    followup = getattr(record, "followup", None)
    if followup is not None:
        notes.append(
            f"Follow-up by {followup.recorded_by} at {_instant(followup.recorded_at)}: "
            f"{followup.get_result_display().lower()}"
            + (f" — {followup.note}" if followup.note else "")
        )
    for amendment in record.amendments.all():
        changes = ", ".join(f"{key} = {value}" for key, value in sorted(amendment.changes.items()))
        notes.append(
            f"{amendment.get_kind_display()} by {amendment.amended_by} at "
            f"{_instant(amendment.amended_at)}: {amendment.reason}"
            + (f" ({changes})" if changes else "")
        )
    return [{"text": text} for text in notes]


def _medication_administration(record: Administration, patient_ref: dict) -> dict:
    order = record.prescription
    if record.voided:
        status = "entered-in-error"
    elif record.status == AdminStatus.GIVEN:
        status = "completed"
    else:
        status = "not-done"
    resource: dict = {
        "resourceType": "MedicationAdministration",
        "id": _uuid("administration", record.pk),
        "status": status,
        "medicationCodeableConcept": _medication_concept(order.medication),
        "subject": patient_ref,
        "effectiveDateTime": _instant(record.administered_at),
        "performer": [{"actor": {"display": str(record.recorded_by)}}],
        "request": {"reference": _full_url("order", order.pk)},
    }
    if record.witness_id:
        resource["performer"].append(
            {"function": {"text": "Witness"}, "actor": {"display": str(record.witness)}}
        )
    if record.approved_by_id:
        resource["performer"].append(
            {
                "function": {"text": "Approved the PRN"},
                "actor": {"display": str(record.approved_by)},
            }
        )
    if record.status != AdminStatus.GIVEN:
        resource["statusReason"] = [{"text": _status_reason(record)}]
    if record.prn_reason:
        resource["reasonCode"] = [{"text": record.prn_reason}]
    dosage: dict = {
        "text": record.dose_given or order.dose_text,
        "route": {"text": order.get_route_display()},
    }
    if record.status == AdminStatus.GIVEN:
        dosage["dose"] = {"value": _number(order.dose_amount), "unit": order.dose_unit}
    resource["dosage"] = dosage
    if notes := _notes(record):
        resource["note"] = notes
    return resource


def resident_bundle(
    *, resident: Resident, start: datetime.datetime, end: datetime.datetime
) -> dict:
    """The resident, every order, and the administrations recorded in [start, end) (aware
    datetimes), as a FHIR R4 Bundle of type "collection"."""
    patient_url = _full_url("resident", resident.pk)
    patient_ref = {"reference": patient_url, "display": resident.display_name}
    orders = (
        Prescription.objects.filter(resident=resident)
        .select_related("medication")
        .prefetch_related("hold_parameters")
        .order_by("start_date", "pk")
    )
    records = (
        Administration.objects.filter(
            resident=resident, administered_at__gte=start, administered_at__lt=end
        )
        .select_related(
            "prescription__medication",
            "recorded_by",
            "witness",
            "approved_by",
            "followup__recorded_by",
        )
        .prefetch_related(
            Prefetch(
                "amendments",
                queryset=Amendment.objects.select_related("amended_by").order_by(
                    "amended_at", "pk"
                ),
            )
        )
        .order_by("administered_at", "pk")
    )
    entries = [{"fullUrl": patient_url, "resource": _patient(resident)}]
    entries += [
        {
            "fullUrl": _full_url("order", order.pk),
            "resource": _medication_request(order, patient_ref),
        }
        for order in orders
    ]
    entries += [
        {
            "fullUrl": _full_url("administration", record.pk),
            "resource": _medication_administration(record, patient_ref),
        }
        for record in records
    ]
    entries += care_entries(
        resident=resident,
        start=start,
        end=end,
        patient_ref=patient_ref,
        full_url=_full_url,
        uuid_of=_uuid,
        instant=_instant,
    )
    entries += clinical_entries(
        resident=resident,
        start=start,
        end=end,
        patient_ref=patient_ref,
        full_url=_full_url,
        instant=_instant,
    )
    entries += appointment_entries(
        resident=resident,
        start=start,
        end=end,
        patient_ref=patient_ref,
        full_url=_full_url,
        instant=_instant,
    )
    entries += vital_entries(
        resident=resident,
        start=start,
        end=end,
        patient_ref=patient_ref,
        full_url=_full_url,
        uuid_of=_uuid,
        instant=_instant,
        number=_number,
    )
    return {
        "resourceType": "Bundle",
        "id": str(
            uuid.uuid5(_NAMESPACE, f"bundle:{resident.pk}:{_instant(start)}:{_instant(end)}")
        ),
        "meta": {"lastUpdated": _instant(timezone.now())},
        "type": "collection",
        "timestamp": _instant(timezone.now()),
        "entry": entries,
    }
