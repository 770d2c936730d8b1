"""A change of condition reaches the nurse at once, and escalates when nobody answers."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from clinical import services
from clinical.models import ConditionReport
from mar import services as mar_services
from mar.models import Alert, AlertKind, AlertSeverity, AlertState
from residents.models import ResidentStatus
from tests.factories import member

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # 10:00 in New York
MINUTE = datetime.timedelta(minutes=1)


def _report(resident, actor, at=NOW, **kwargs):
    kwargs.setdefault("changes", ["eats_less", "tired"])
    with time_machine.travel(at, tick=False):
        return services.condition_report(actor=actor, resident=resident, **kwargs)


def test_a_report_puts_a_change_of_condition_in_the_nurses_inbox_at_once(
    medtech_client, nurse_client, resident
):
    url = reverse("condition_report_new", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        assert "Tired or weak" in medtech_client.get(url).content.decode()
        response = medtech_client.post(
            url, {"changes": ["tired", "eats_less"], "note": "Left half her breakfast"}
        )
    report = ConditionReport.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "condition_report", args=[report.pk]
    )
    assert report.changes == ["tired", "eats_less"] and report.resident == resident
    alert = Alert.objects.get(kind=AlertKind.CHANGE_OF_CONDITION)
    assert alert.state == AlertState.OPEN and alert.severity == AlertSeverity.WARNING
    assert alert.created_at == NOW and alert.resident == resident
    assert "change of condition — eats less, tired or weak." in alert.message
    assert "“Left half her breakfast”" in alert.message and "at 2026-03-04 10:00" in alert.message
    assert alert.subject_url == reverse("condition_report", args=[report.pk])
    with time_machine.travel(NOW + MINUTE, tick=False):
        inbox = nurse_client.get(reverse("alert_list")).content.decode()
        page = nurse_client.get(alert.subject_url).content.decode()
    assert "eats less, tired or weak" in inbox
    assert "Waiting for a nurse" in page and "Eats less" in page


def test_nothing_ticked_is_refused_beside_the_checklist_and_nothing_is_sent(
    caregiver_client, resident
):
    url = reverse("condition_report_new", args=[resident.pk])
    response = caregiver_client.post(url, {"changes": [], "note": "Seems off"})
    page = response.content.decode()
    assert response.status_code == 200
    legend = page.index("What has changed?")
    assert legend < page.index("Tick at least one change you noticed.") < page.index("id_note")
    assert "Seems off</textarea>" in page
    assert not ConditionReport.objects.exists() and not Alert.objects.exists()


def test_who_reports_and_about_whom(resident, facility):
    admin = member(facility, Role.ADMIN)
    with pytest.raises(services.DomainError, match="Med techs, caregivers and nurses"):
        _report(resident, admin)
    caregiver = member(facility, Role.CAREGIVER)
    with pytest.raises(services.DomainError, match="Choose the changes from the list"):
        _report(resident, caregiver, changes=["levitates"])
    assert _report(resident, caregiver).reported_by == caregiver
    resident.status = ResidentStatus.DISCHARGED
    resident.save(update_fields=["status"])
    with pytest.raises(services.DomainError, match="is discharged"):
        _report(resident, caregiver)


def test_not_acknowledged_in_30_minutes_it_escalates_once(resident, facility):
    medtech = member(facility, Role.MED_TECH)
    waiting = _report(resident, medtech)
    answered = _report(resident, medtech, changes=["fell"])
    alert_of = {
        r.pk: Alert.objects.get(subject=services.condition_subject(r.pk))
        for r in (waiting, answered)
    }
    with time_machine.travel(NOW + 10 * MINUTE, tick=False):
        mar_services.alert_acknowledge(
            actor=member(facility, Role.NURSE), alert=alert_of[answered.pk], note="On my way"
        )
    assert services.conditions_escalate(now=NOW + 29 * MINUTE) == 0
    assert services.conditions_escalate(now=NOW + 30 * MINUTE) == 1
    assert services.conditions_escalate(now=NOW + 31 * MINUTE) == 0  # once
    escalated = Alert.objects.get(pk=alert_of[waiting.pk].pk)
    assert escalated.severity == AlertSeverity.URGENT
    assert escalated.message.startswith("Not acknowledged for 30 minutes. ")
    assert ConditionReport.objects.get(pk=waiting.pk).escalated_at == NOW + 30 * MINUTE
    assert Alert.objects.get(pk=alert_of[answered.pk].pk).severity == AlertSeverity.WARNING
    assert ConditionReport.objects.get(pk=answered.pk).escalated_at is None


def test_the_beat_escalates_every_minute():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["escalate-condition-reports"]
    assert entry["task"] == "clinical.tasks.escalate_conditions" and entry["schedule"] == 60.0
