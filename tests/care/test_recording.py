"""Documenting care: done with the GG code observed, or refused / not done with a reason;
outside the shift a reason is required; worse than planned three times in 7 days raises one
"consider reassessment" alert; a signed assessment settles it."""

import datetime

import pytest
from django.db import transaction
from django.db.utils import ProgrammingError
from django.urls import reverse

from accounts.models import Role
from care import services
from care.models import AdlCategory, CareAmendment, CareRecord, CareTask, TaskState
from core.errors import DomainError
from mar.models import Alert, AlertKind, AlertState
from tests.factories import member

from .conftest import NOW, answers_for, published_plan

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def evening_toileting(resident, template, nurse):
    published_plan(resident, template, nurse)
    services.care_tasks_generate(now=NOW)
    return CareTask.objects.get(shift_name="evening", item__category=AdlCategory.TOILETING)


def test_done_with_the_level_of_help_observed(evening_toileting, facility):
    medtech = member(facility, Role.MED_TECH)
    at = evening_toileting.window_opens_at + HOUR
    record = services.care_task_record(
        task_id=evening_toileting.pk, status="done", performance_code="04", user=medtech, now=at
    )
    evening_toileting.refresh_from_db()
    assert evening_toileting.state == TaskState.DONE
    assert (record.performance_code, record.recorded_by, record.performed_at) == ("04", medtech, at)
    with pytest.raises(DomainError, match="already done"):
        services.care_task_record(
            task_id=evening_toileting.pk,
            status="done",
            performance_code="04",
            user=medtech,
            now=at,
        )
    assert CareRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "code", "reason", "field"),
    [
        ("done", "", "", "performance_code"),
        ("done", "88", "", "performance_code"),
        ("refused", "", " ", "reason"),
        ("asleep", "", "", "status"),
    ],
)
def test_a_bad_entry_is_named_and_changes_nothing(
    evening_toileting, facility, status, code, reason, field
):
    with pytest.raises(DomainError) as refused:
        services.care_task_record(
            task_id=evening_toileting.pk,
            status=status,
            performance_code=code,
            reason=reason,
            user=member(facility, Role.MED_TECH),
            now=evening_toileting.window_opens_at + HOUR,
        )
    assert refused.value.field == field
    evening_toileting.refresh_from_db()
    assert evening_toileting.state == TaskState.DUE and not CareRecord.objects.exists()


def test_outside_the_shift_a_reason_is_required(evening_toileting, facility):
    medtech = member(facility, Role.MED_TECH)
    late = evening_toileting.window_closes_at + HOUR
    services.care_tasks_mark(now=late)
    with pytest.raises(DomainError, match="outside the task's shift") as refused:
        services.care_task_record(
            task_id=evening_toileting.pk,
            status="done",
            performance_code="04",
            user=medtech,
            now=late,
        )
    assert refused.value.field == "reason"
    services.care_task_record(
        task_id=evening_toileting.pk,
        status="done",
        performance_code="04",
        user=medtech,
        now=late,
        reason="Documented after the call light rush",
    )
    evening_toileting.refresh_from_db()
    assert evening_toileting.state == TaskState.DONE


def test_refused_is_recorded_with_the_refusal_code(evening_toileting, facility):
    record = services.care_task_record(
        task_id=evening_toileting.pk,
        status="refused",
        reason="Wanted to rest",
        user=member(facility, Role.MED_TECH),
        now=evening_toileting.window_opens_at + HOUR,
    )
    assert record.performance_code == "07"
    evening_toileting.refresh_from_db()
    assert evening_toileting.state == TaskState.REFUSED


def test_worse_than_planned_three_times_in_a_week_suggests_reassessment_once(
    resident, template, nurse, facility
):
    published_plan(resident, template, nurse)  # toileting planned at 04
    medtech = member(facility, Role.MED_TECH)
    services.care_tasks_generate(now=NOW)
    services.care_tasks_generate(now=NOW + 12 * HOUR)
    tasks = list(
        CareTask.objects.filter(item__category=AdlCategory.TOILETING).order_by("window_opens_at")
    )
    assert len(tasks) >= 4
    for number, task in enumerate(tasks[:4], start=1):
        services.care_task_record(
            task_id=task.pk,
            status="done",
            performance_code="02",
            user=medtech,
            now=task.window_opens_at + HOUR,
        )
        raised = Alert.objects.filter(kind=AlertKind.REASSESS_SUGGESTED, resident=resident)
        assert raised.count() == (0 if number < 3 else 1)
    alert = raised.get()
    assert "more help with toileting than planned 3 times in 7 days" in alert.message
    services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template),
        reason="change",
        signed_by=nurse,
        now=NOW + 24 * HOUR,
    )
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_by == nurse


def test_a_nurse_corrects_a_record_and_it_stays_beside_the_original(
    evening_toileting, facility, nurse_client, nurse_user
):
    at = evening_toileting.window_opens_at + HOUR
    record = services.care_task_record(
        task_id=evening_toileting.pk,
        status="done",
        performance_code="04",
        user=member(facility, Role.MED_TECH),
        now=at,
    )
    response = nurse_client.post(
        reverse("care_record_amend", args=[record.pk]),
        {"kind": "correction", "performance_code": "02", "reason": "Needed two staff"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.performance_code == "04"  # the record never changes
    assert record.current_code == "02"
    (amendment,) = record.amendments.all()
    assert amendment.changes == {"performance_code": "02"} and amendment.amended_by == nurse_user
    # The database refuses (append-only trigger).
    with pytest.raises(ProgrammingError), transaction.atomic():
        CareAmendment.objects.filter(pk=amendment.pk).update(reason="changed")


def test_entered_in_error_lets_the_task_be_documented_again(evening_toileting, facility, nurse):
    medtech = member(facility, Role.MED_TECH)
    at = evening_toileting.window_opens_at + HOUR
    first = services.care_task_record(
        task_id=evening_toileting.pk, status="done", performance_code="04", user=medtech, now=at
    )
    services.care_record_amend(
        actor=nurse,
        record_id=first.pk,
        kind="entered_in_error",
        reason="Charted on the wrong resident",
        now=at + HOUR,
    )
    evening_toileting.refresh_from_db()
    assert evening_toileting.state == TaskState.DUE and evening_toileting.record is None
    second = services.care_task_record(
        task_id=evening_toileting.pk,
        status="refused",
        reason="Declined",
        user=medtech,
        now=at + 2 * HOUR,
    )
    assert evening_toileting.record == second
    assert CareRecord.objects.filter(task=evening_toileting).count() == 2


@pytest.mark.parametrize(
    ("kind", "code", "reason", "message"),
    [
        ("correction", "", "No change", "Say what the correction changes."),
        ("correction", "04", "Same code", "Say what the correction changes."),
        ("void", "", "Why not", "Choose the kind of amendment."),
        ("correction", "02", " ", "Give the reason for the amendment."),
    ],
)
def test_a_bad_amendment_is_refused_and_changes_nothing(
    evening_toileting, facility, nurse, kind, code, reason, message
):
    record = services.care_task_record(
        task_id=evening_toileting.pk,
        status="done",
        performance_code="04",
        user=member(facility, Role.MED_TECH),
        now=evening_toileting.window_opens_at + HOUR,
    )
    with pytest.raises(DomainError, match=message):
        services.care_record_amend(
            actor=nurse,
            record_id=record.pk,
            kind=kind,
            reason=reason,
            performance_code=code,
            now=NOW,
        )
    assert not record.amendments.exists()


def test_only_a_nurse_amends(evening_toileting, facility):
    medtech = member(facility, Role.MED_TECH)
    record = services.care_task_record(
        task_id=evening_toileting.pk,
        status="done",
        performance_code="04",
        user=medtech,
        now=evening_toileting.window_opens_at + HOUR,
    )
    with pytest.raises(DomainError, match="Only a nurse"):
        services.care_record_amend(
            actor=medtech, record_id=record.pk, kind="entered_in_error", reason="x", now=NOW
        )
