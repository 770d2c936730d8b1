"""Vital signs in the resident's FHIR bundle: one Observation per reading with the vital-signs
category and profile, its LOINC code and UCUM unit; a blood pressure as one panel with two
components; out of range with its interpretation; valid FHIR R4B; constant queries."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Role
from reports.fhir import resident_bundle
from tests.factories import member
from vitals import services
from vitals.models import ReadingSource

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 6, 10, 16, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
VITALS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"


@pytest.fixture
def taken(facility, resident):
    nurse = member(facility, Role.NURSE, first_name="Nora", last_name="Hale")
    every = {
        "temperature": "98.6",
        "pulse": "118",
        "respirations": "16",
        "systolic_bp": "132",
        "diastolic_bp": "44",
        "spo2": "95",
        "blood_glucose": "140",
        "pain": "3",
        "weight": "151.5",
    }
    return services.readings_record(
        actor=nurse,
        resident=resident,
        values=every,
        source=ReadingSource.FLOWSHEET,
        taken_at=NOW - HOUR,
        now=NOW,
    )


def _observations(resident) -> dict[str, dict]:
    bundle = json.loads(
        json.dumps(resident_bundle(resident=resident, start=NOW - 24 * HOUR, end=NOW))
    )
    Bundle.model_validate(bundle)
    return {
        e["resource"]["code"]["coding"][0]["code"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    }


def test_every_reading_is_a_vital_signs_observation_with_loinc_and_ucum(resident, taken):
    found = _observations(resident)
    assert set(found) == {
        "8310-5",
        "8867-4",
        "9279-1",
        "85354-9",
        "59408-5",
        "2339-0",
        "72514-3",
        "29463-7",
    }
    units = {code: o.get("valueQuantity", {}).get("code") for code, o in found.items()}
    assert units == {
        "8310-5": "[degF]",
        "8867-4": "/min",
        "9279-1": "/min",
        "85354-9": None,
        "59408-5": "%",
        "2339-0": "mg/dL",
        "72514-3": "{score}",
        "29463-7": "[lb_av]",
    }
    temperature = found["8310-5"]
    assert temperature["status"] == "final"
    assert temperature["category"][0]["coding"][0]["code"] == "vital-signs"
    assert temperature["meta"]["profile"] == [VITALS, VITALS.replace("vitalsigns", "bodytemp")]
    assert temperature["effectiveDateTime"] == "2026-06-10T15:00:00Z"
    assert temperature["valueQuantity"] == {
        "value": 98.6,
        "unit": "°F",
        "system": "http://unitsofmeasure.org",
        "code": "[degF]",
    }
    assert temperature["performer"] == [{"display": "Nora Hale"}]
    assert temperature["subject"]["reference"].startswith("urn:uuid:")
    assert [c["code"] for c in found["59408-5"]["code"]["coding"]] == ["59408-5", "2708-6"]
    assert found["29463-7"]["valueQuantity"]["value"] == 151.5


def test_a_blood_pressure_is_one_panel_with_its_two_numbers(resident, taken):
    panel = _observations(resident)["85354-9"]
    assert panel["meta"]["profile"][1].endswith("/bp")
    components = {c["code"]["coding"][0]["code"]: c for c in panel["component"]}
    assert components["8480-6"]["valueQuantity"]["value"] == 132
    assert components["8480-6"]["valueQuantity"]["code"] == "mm[Hg]"
    low = components["8462-4"]
    assert low["valueQuantity"]["value"] == 44
    assert low["interpretation"][0]["coding"][0]["code"] == "L"  # below 50
    assert low["referenceRange"][0]["low"]["value"] == 50
    assert "interpretation" not in components["8480-6"]


def test_a_reading_out_of_range_says_high_with_its_range(resident, taken):
    pulse = _observations(resident)["8867-4"]
    assert pulse["interpretation"][0]["coding"][0]["code"] == "H"
    assert pulse["referenceRange"] == [
        {
            "low": {
                "value": 50,
                "unit": "/min",
                "system": "http://unitsofmeasure.org",
                "code": "/min",
            },
            "high": {
                "value": 110,
                "unit": "/min",
                "system": "http://unitsofmeasure.org",
                "code": "/min",
            },
        }
    ]
    assert "interpretation" not in _observations(resident)["8310-5"]


def test_the_export_reads_readings_in_constant_queries(facility, resident, taken):
    nurse = member(facility, Role.NURSE)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            resident_bundle(resident=resident, start=NOW - 24 * HOUR, end=NOW)
        return len(captured)

    small = count()
    for hours in range(2, 12):
        services.readings_record(
            actor=nurse,
            resident=resident,
            values={"pulse": "130", "systolic_bp": "120", "diastolic_bp": "80"},
            source=ReadingSource.FLOWSHEET,
            taken_at=NOW - hours * HOUR,
            now=NOW,
        )
    assert count() == small
