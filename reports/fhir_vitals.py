"""A resident's vital sign readings as FHIR R4 Observations for the bundle of reports/fhir.py:
the vital-signs category and profile, LOINC codes and UCUM units; a blood pressure (systolic
and diastolic taken together) is one panel with its two components; a reading out of its
range carries its interpretation and the range it was judged by.

One query whatever the number of readings."""

from collections import defaultdict

from residents.models import Resident
from vitals.models import VitalReading, VitalSign

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ],
    "text": "Vital Signs",
}
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PROFILE = "http://hl7.org/fhir/StructureDefinition/"
# sign: (LOINC codes (the first is the vital-signs profile's), display, UCUM code, unit as read,
# the profile beside "vitalsigns" or "").
CODES = {
    VitalSign.TEMPERATURE: (("8310-5",), "Body temperature", "[degF]", "°F", "bodytemp"),
    VitalSign.PULSE: (("8867-4",), "Heart rate", "/min", "/min", "heartrate"),
    VitalSign.RESPIRATIONS: (("9279-1",), "Respiratory rate", "/min", "/min", "resprate"),
    VitalSign.SYSTOLIC_BP: (("8480-6",), "Systolic blood pressure", "mm[Hg]", "mmHg", ""),
    VitalSign.DIASTOLIC_BP: (("8462-4",), "Diastolic blood pressure", "mm[Hg]", "mmHg", ""),
    VitalSign.SPO2: (
        ("59408-5", "2708-6"),
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        "%",
        "%",
        "oxygensat",
    ),
    VitalSign.BLOOD_GLUCOSE: (
        ("2339-0",),
        "Glucose [Mass/volume] in Blood",
        "mg/dL",
        "mg/dL",
        "",
    ),
    VitalSign.PAIN: (
        ("72514-3",),
        "Pain severity - 0-10 verbal numeric rating",
        "{score}",
        "/10",
        "",
    ),
    VitalSign.WEIGHT: (("29463-7",), "Body weight", "[lb_av]", "lb", "bodyweight"),
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP = (VitalSign.SYSTOLIC_BP, VitalSign.DIASTOLIC_BP)


def _code(sign) -> dict:
    codes, display, *_ = CODES[sign]
    return {
        "coding": [{"system": LOINC, "code": code, "display": display} for code in codes],
        "text": VitalSign(sign).label,
    }


def _quantity(sign, value, number) -> dict:
    _, _, ucum, unit, _ = CODES[sign]
    return {"value": number(value), "unit": unit, "system": UCUM, "code": ucum}


def _judged(reading, number) -> dict:
    """The interpretation and range of a reading that was out of its range."""
    exception = getattr(reading, "exception", None)
    if exception is None:
        return {}
    low = exception.low is not None and reading.value < exception.low
    code, words = ("L", "Low") if low else ("H", "High")
    judged_range = {}
    if exception.low is not None:
        judged_range["low"] = _quantity(reading.kind, exception.low, number)
    if exception.high is not None:
        judged_range["high"] = _quantity(reading.kind, exception.high, number)
    return {
        "interpretation": [
            {"coding": [{"system": INTERPRETATION, "code": code, "display": words}]}
        ],
        "referenceRange": [judged_range] if judged_range else [],
    }


def vital_entries(
    *, resident: Resident, start, end, patient_ref: dict, full_url, uuid_of, instant, number
):
    """The bundle entries: one Observation per reading in [start, end), a blood pressure's two
    numbers taken together as one panel."""
    readings = (
        VitalReading.objects.filter(resident=resident, taken_at__gte=start, taken_at__lt=end)
        .select_related("taken_by", "exception")
        .order_by("taken_at", "pk")
    )
    pressures = defaultdict(dict)
    single = []
    for reading in readings:
        if reading.kind in BP:
            pressures[(reading.taken_at, reading.taken_by_id, reading.source)][reading.kind] = (
                reading
            )
        else:
            single.append(reading)
    entries = []
    for reading in single:
        profile = CODES[reading.kind][4]
        resource = _observation(
            reading,
            profile,
            _code(reading.kind),
            patient_ref,
            uuid_of,
            instant,
        )
        resource["valueQuantity"] = _quantity(reading.kind, reading.value, number)
        resource.update({k: v for k, v in _judged(reading, number).items() if v})
        entries.append((reading.taken_at, reading.pk, resource))
    for pair in pressures.values():
        first = min(pair.values(), key=lambda r: r.pk)
        code = {
            "coding": [{"system": LOINC, "code": BP_PANEL[0], "display": BP_PANEL[1]}],
            "text": "Blood pressure",
        }
        resource = _observation(first, "bp", code, patient_ref, uuid_of, instant)
        resource["component"] = [
            {
                "code": _code(sign),
                "valueQuantity": _quantity(sign, pair[sign].value, number),
                **{k: v for k, v in _judged(pair[sign], number).items() if v},
            }
            for sign in BP
            if sign in pair
        ]
        entries.append((first.taken_at, first.pk, resource))
    entries.sort(key=lambda e: (e[0], e[1]))
    return [{"fullUrl": full_url("vital", pk), "resource": resource} for _, pk, resource in entries]


def _observation(reading, profile, code, patient_ref, uuid_of, instant) -> dict:
    profiles = [f"{PROFILE}vitalsigns"] + ([f"{PROFILE}{profile}"] if profile else [])
    return {
        "resourceType": "Observation",
        "id": uuid_of("vital", reading.pk),
        "meta": {"profile": profiles},
        "status": "final",
        "category": [CATEGORY],
        "code": code,
        "subject": patient_ref,
        "effectiveDateTime": instant(reading.taken_at),
        "performer": [{"display": str(reading.taken_by)}],
    }
