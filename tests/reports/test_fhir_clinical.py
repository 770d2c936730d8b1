"""Changes of condition in the resident's FHIR bundle: the report, the nurse's SBAR and each
notification as Communications (reached: completed with the response; declined: not-done with
the reason); valid FHIR R4B."""

import datetime
import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from clinical import services
from reports.fhir import resident_bundle

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def evaluated(resident, medtech_user, nurse_user):
    report = services.condition_report(
        actor=medtech_user, resident=resident, changes=["eats_less"], note="Left lunch", now=NOW
    )
    services.condition_evaluate(
        actor=nurse_user,
        report_id=report.pk,
        situation="Eats less",
        background="Metoprolol",
        assessment="Dry mucosa",
        recommendation="Labs",
        monitor_hours=None,
        now=NOW + 10 * MINUTE,
    )
    evaluation = report.evaluation
    services.condition_notify(
        actor=nurse_user,
        evaluation_id=evaluation.pk,
        party="physician",
        method="phone",
        person_reached="Dr. Hayes",
        reached_at=NOW + 20 * MINUTE,
        response="new_order",
        response_note="BMP tomorrow",
        now=NOW + 25 * MINUTE,
    )
    services.condition_notify(
        actor=nurse_user,
        evaluation_id=evaluation.pk,
        party="representative",
        declined_reason="Resident asks us not to",
        now=NOW + 26 * MINUTE,
    )
    # Another report, outside the period, is not in the bundle.
    services.condition_report(
        actor=medtech_user, resident=resident, changes=["tired"], now=NOW - 10 * 24 * 60 * MINUTE
    )
    return report


def test_the_change_of_condition_is_four_valid_communications(resident, evaluated):
    bundle = resident_bundle(resident=resident, start=NOW - 60 * MINUTE, end=NOW + 60 * MINUTE)
    data = json.loads(json.dumps(bundle))
    Bundle.model_validate(data)
    found = [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Communication"
    ]
    for resource in found:
        get_fhir_model_class("Communication").model_validate(resource)
    assert [c["category"][0]["coding"][0]["code"] for c in found] == [
        "change-of-condition",
        "sbar",
        "notify-physician",
        "notify-representative",
    ]
    report, sbar, physician, representative = found
    assert report["payload"][0]["contentString"] == "Change of condition: eats less. Left lunch"
    assert report["sent"] == "2026-03-04T15:00:00Z"
    assert sbar["payload"][2]["contentString"] == "Assessment: Dry mucosa"
    assert physician["status"] == "completed" and physician["sent"] == "2026-03-04T15:20:00Z"
    assert physician["recipient"][0]["display"] == "Dr. Hayes (physician)"
    assert physician["payload"][0]["contentString"] == "Response: New order — BMP tomorrow"
    assert representative["status"] == "not-done"
    assert representative["statusReason"]["text"] == "Resident asks us not to"
