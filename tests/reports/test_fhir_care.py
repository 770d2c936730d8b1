"""Service plans and documented care in the resident's FHIR bundle: CarePlans (the newer
replacing the superseded), a Task per care task documented or missed, and an Observation with
the GG code for each "done" record; valid FHIR R4B."""

import datetime
import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Role
from care import services
from care.catalog import adl_template
from care.models import CareTask
from reports.fhir import resident_bundle
from tests.care.conftest import NOW, published_plan
from tests.factories import member

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def care(resident, facility):
    nurse = member(facility, Role.NURSE)
    medtech = member(facility, Role.MED_TECH)
    template = adl_template()
    first = published_plan(resident, template, nurse, at=NOW - 48 * HOUR)
    services.care_tasks_generate(now=NOW)
    tasks = list(CareTask.objects.order_by("window_opens_at"))
    services.care_task_record(
        task_id=tasks[0].pk,
        status="done",
        performance_code="03",
        user=medtech,
        now=tasks[0].window_opens_at + HOUR,
    )
    services.care_task_record(
        task_id=tasks[1].pk,
        status="refused",
        reason="Wanted to rest",
        user=medtech,
        now=tasks[1].window_opens_at + HOUR,
    )
    services.care_tasks_mark(now=tasks[2].window_closes_at)
    second = published_plan(
        resident, template, nurse, at=tasks[2].window_closes_at, levels={"toileting": 5}
    )
    return first, second


def _bundle(resident):
    bundle = resident_bundle(resident=resident, start=NOW - 72 * HOUR, end=NOW + 72 * HOUR)
    return json.loads(json.dumps(bundle))


def test_the_bundle_with_care_validates_as_fhir_r4b(resident, care):
    data = _bundle(resident)
    Bundle.model_validate(data)
    for entry in data["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    kinds = [e["resource"]["resourceType"] for e in data["entry"]]
    assert kinds.count("CarePlan") == 2
    assert kinds.count("Task") == 3
    assert kinds.count("Observation") == 1


def test_the_plans_tasks_and_observation_say_what_happened(resident, care):
    first, second = care
    data = _bundle(resident)
    plans = [e for e in data["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    assert [p["resource"]["status"] for p in plans] == ["completed", "active"]
    assert plans[1]["resource"]["replaces"] == [{"reference": plans[0]["fullUrl"]}]
    activity = plans[1]["resource"]["activity"][0]["detail"]
    assert activity["code"]["text"] == "Toileting" and activity["kind"] == "Task"
    assert "02 Substantial/maximal assistance" in activity["description"]
    tasks = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Task"]
    assert [t["status"] for t in tasks] == ["completed", "rejected", "failed"]
    assert tasks[1]["statusReason"]["text"] == "Wanted to rest"
    assert tasks[2]["statusReason"]["text"] == "Nothing documented before the shift ended"
    observation = next(e for e in data["entry"] if e["resource"]["resourceType"] == "Observation")
    assert tasks[0]["output"][0]["valueReference"]["reference"] == observation["fullUrl"]
    coding = observation["resource"]["valueCodeableConcept"]["coding"][0]
    assert (coding["code"], coding["display"]) == ("03", "03 Partial/moderate assistance")
