"""From a report to its close: the nurse's SBAR (background from the record), the physician's
and the representative's notification (CMS F580), the monitoring it starts, and the close that
waits for both notifications."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import ProgrammingError, transaction
from django.urls import reverse

from care.models import MonitoringCheck, MonitoringEpisode
from clinical import services
from clinical.models import ConditionEvaluation, ConditionNotification
from core.errors import DomainError
from mar.models import Alert, AlertKind, AlertState
from tests.factories import (
    AllergyFactory,
    MedicationFactory,
    PrescriptionFactory,
    record_dose,
    scheduled_dose,
)
from vitals.models import ReadingSource, VitalReading

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
SBAR = {
    "situation": "Eats less since Monday, tired",
    "background": "From the record",
    "assessment": "Alert, afebrile, mucosa dry",
    "recommendation": "Encourage fluids; ask the physician for labs",
}


def _report(resident, actor, at=NOW):
    with time_machine.travel(at, tick=False):
        return services.condition_report(
            actor=actor, resident=resident, changes=["eats_less", "tired"], note="Left lunch"
        )


def _evaluated(resident, medtech_user, nurse_user, **kwargs):
    report = _report(resident, medtech_user)
    services.condition_evaluate(
        actor=nurse_user, report_id=report.pk, now=NOW + datetime.timedelta(minutes=10), **SBAR
    )
    return report


def test_the_background_is_drawn_from_the_record(nurse_client, resident, medtech_user, nurse_user):
    AllergyFactory(resident=resident, substance="Sulfa", reaction="rash")
    PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Metoprolol"), entered_by=nurse_user
    )
    furosemide = PrescriptionFactory(
        resident=resident, medication=MedicationFactory(name="Furosemide"), entered_by=nurse_user
    )
    refused = scheduled_dose(furosemide, datetime.datetime(2026, 3, 3, 8, 0))
    record_dose(nurse_user, refused, "refused", reason="Said she feels dizzy")
    VitalReading.objects.create(
        resident=resident,
        kind="pulse",
        value=Decimal("58"),
        taken_at=NOW - datetime.timedelta(hours=2),
        taken_by=medtech_user,
        source=ReadingSource.FLOWSHEET,
    )
    report = _report(resident, medtech_user)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        page = nurse_client.get(reverse("condition_evaluate", args=[report.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Allergies: Sulfa (rash)." in body
    assert "Metoprolol" in body and "Furosemide" in body
    assert "Pulse 58 /min (2026-03-04 08:00)" in body
    assert "Refused, last 7 days: Furosemide 10 mg tablet (2026-03-03 08:05)." in body
    assert "eats less, tired or weak" in body  # the situation, from the report


def test_the_nurse_evaluates_notifies_both_and_closes(
    nurse_client, resident, medtech_user, nurse_user
):
    report = _report(resident, medtech_user)
    evaluate = reverse("condition_evaluate", args=[report.pk])
    with time_machine.travel(NOW + datetime.timedelta(minutes=10), tick=False):
        response = nurse_client.post(evaluate, {**SBAR, "monitor": "on", "monitor_hours": "72"})
    assert response.status_code == 302
    evaluation = ConditionEvaluation.objects.get(report=report)
    assert evaluation.assessment == SBAR["assessment"] and evaluation.evaluated_by == nurse_user
    alert = Alert.objects.get(kind=AlertKind.CHANGE_OF_CONDITION)
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == nurse_user
    # The 72-hour monitoring starts with a check on the shift running now.
    episode = evaluation.monitoring
    assert episode.ends_at - episode.started_at == datetime.timedelta(hours=72)
    assert "eats less, tired or weak" in episode.reason
    assert MonitoringCheck.objects.filter(episode=episode, window_opens_at__lte=NOW).count() == 1

    close = reverse("condition_close", args=[report.pk])
    refused = nurse_client.post(close).content.decode()
    assert "Record the physician and the representative notification first" in refused
    assert 'id="close-error"' in refused
    notify = reverse("condition_notify", args=[report.pk])
    with time_machine.travel(NOW + datetime.timedelta(minutes=30), tick=False):
        reached = nurse_client.post(
            notify,
            {
                "party": "physician",
                "method": "phone",
                "person_reached": "Dr. Hayes",
                "reached_at": "2026-03-04T10:25",
                "response": "new_order",
                "response_note": "BMP in the morning",
            },
        )
        assert reached.status_code == 302
        declined = nurse_client.post(
            notify, {"party": "representative", "declined_reason": "Resident asks us not to"}
        )
        assert declined.status_code == 302
        assert nurse_client.post(close).status_code == 302
    physician = ConditionNotification.objects.get(party="physician")
    assert physician.reached_at == datetime.datetime(2026, 3, 4, 15, 25, tzinfo=datetime.UTC)
    evaluation.refresh_from_db()
    assert evaluation.closed_by == nurse_user
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    page = nurse_client.get(reverse("condition_report", args=[report.pk])).content.decode()
    assert "Dr. Hayes reached by phone at 2026-03-04 10:25" in page
    assert "not notified — Resident asks us not to" in page and "Closed" in page


def test_a_notification_missing_its_facts_is_refused_beside_each_field(
    nurse_client, resident, medtech_user, nurse_user
):
    report = _evaluated(resident, medtech_user, nurse_user)
    notify = reverse("condition_notify", args=[report.pk])
    cases = [
        ({"method": ""}, "Choose how they were reached."),
        ({"person_reached": " "}, "Write who was reached."),
        ({"reached_at": ""}, "Say when they were reached."),
        ({"reached_at": "2026-03-05T10:00"}, "That time is in the future."),
        ({"response": ""}, "Choose their response."),
    ]
    good = {
        "party": "physician",
        "method": "fax",
        "person_reached": "Office of Dr. Hayes",
        "reached_at": "2026-03-04T10:20",
        "response": "monitor",
    }
    with time_machine.travel(NOW + datetime.timedelta(minutes=30), tick=False):
        for change, message in cases:
            page = nurse_client.post(notify, {**good, **change})
            assert page.status_code == 200
            assert message in page.content.decode(), message
    assert not ConditionNotification.objects.exists()


def test_evaluated_once_by_a_nurse_only(
    medtech_client, nurse_client, resident, medtech_user, nurse_user
):
    report = _evaluated(resident, medtech_user, nurse_user)
    with pytest.raises(DomainError, match="evaluated already"):
        services.condition_evaluate(actor=nurse_user, report_id=report.pk, now=NOW, **SBAR)
    with pytest.raises(DomainError, match="Only a nurse"):
        services.condition_evaluate(actor=medtech_user, report_id=report.pk, now=NOW, **SBAR)
    assert medtech_client.get(reverse("condition_evaluate", args=[report.pk])).status_code == 403
    assert ConditionEvaluation.objects.count() == 1
    assert MonitoringEpisode.objects.count() == 1


def test_an_empty_sbar_part_is_refused_beside_it(nurse_client, resident, medtech_user):
    report = _report(resident, medtech_user)
    page = nurse_client.post(
        reverse("condition_evaluate", args=[report.pk]),
        {**SBAR, "assessment": "   ", "monitor_hours": "72"},
    )
    assert page.status_code == 200 and "This field is required." in page.content.decode()
    assert not ConditionEvaluation.objects.exists()


def test_without_monitoring_when_the_nurse_says_so(resident, medtech_user, nurse_user):
    report = _report(resident, medtech_user)
    services.condition_evaluate(
        actor=nurse_user, report_id=report.pk, now=NOW, monitor_hours=None, **SBAR
    )
    assert not MonitoringEpisode.objects.exists()


def test_a_notification_is_never_changed(resident, medtech_user, nurse_user):
    report = _evaluated(resident, medtech_user, nurse_user)
    notification = services.condition_notify(
        actor=nurse_user,
        evaluation_id=report.evaluation.pk,
        party="representative",
        declined_reason="No representative on file",
        now=NOW,
    )
    with pytest.raises(ProgrammingError), transaction.atomic():
        ConditionNotification.objects.filter(pk=notification.pk).update(declined_reason="x")
    assert ConditionNotification.objects.get().declined_reason == "No representative on file"


def test_vitals_taken_for_the_evaluation_go_to_the_flowsheet(
    nurse_client, resident, medtech_user, nurse_user
):
    report = _report(resident, medtech_user)
    url = reverse("condition_evaluate", args=[report.pk])
    with time_machine.travel(NOW + datetime.timedelta(minutes=10), tick=False):
        refused = nurse_client.post(url, {**SBAR, "monitor_hours": "72", "vital-pulse": "900"})
        assert refused.status_code == 200
        body = refused.content.decode()
        assert body.index('name="vital-pulse"') < body.index("cannot be right")
        assert not ConditionEvaluation.objects.exists()
        saved = nurse_client.post(
            url,
            {**SBAR, "monitor_hours": "72", "vital-pulse": "104", "vital-temperature": "100.9"},
        )
    assert saved.status_code == 302
    evaluation = ConditionEvaluation.objects.get()
    readings = {r.kind: r.value for r in evaluation.readings.all()}
    assert readings == {"pulse": Decimal("104"), "temperature": Decimal("100.9")}
    assert set(VitalReading.objects.filter(resident=resident).values_list("source", flat=True)) == {
        ReadingSource.EVALUATION
    }
    page = nurse_client.get(reverse("condition_report", args=[report.pk])).content.decode()
    assert "Pulse 104 /min" in page and "Temperature 100.9 °F" in page
