"""The care pages as their users work them: the nurse assesses, drafts and publishes a plan and
sees what changed; the med tech documents the shift's care; lists read in constant queries."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from care import services
from care.models import CareRecord, CareTask, PlanStatus, ServicePlan, TaskState
from tests.factories import ResidentFactory

from .conftest import NOW, answers_for, published_plan

pytestmark = pytest.mark.django_db


def test_the_nurse_assesses_drafts_and_publishes_seeing_what_changes(
    nurse_client, resident, template
):
    with time_machine.travel(NOW, tick=False):
        care_page = nurse_client.get(reverse("care_resident", args=[resident.pk]))
        assert "New assessment" in care_page.content.decode()
        page = nurse_client.get(reverse("care_assess", args=[resident.pk]))
        assert "Bathing: How much help does the resident need to bathe" in page.content.decode()
        answers = answers_for(template, {"bathing": 4, "toileting": 3})
        missing = dict(list(answers.items())[1:])
        refused = nurse_client.post(
            reverse("care_assess", args=[resident.pk]),
            {**{f"q{q}": c for q, c in missing.items()}, "reason": "admission"},
        )
        assert refused.status_code == 200 and "Answer this question." in refused.content.decode()
        assert not resident.assessments.exists()
        response = nurse_client.post(
            reverse("care_assess", args=[resident.pk]),
            {**{f"q{q}": c for q, c in answers.items()}, "reason": "admission"},
        )
        assert response.status_code == 302
        response = nurse_client.post(reverse("care_plan_draft", args=[resident.pk]))
        plan = ServicePlan.objects.get(resident=resident)
        assert response.url == reverse("care_plan", args=[plan.pk])
        page = nurse_client.get(response.url).content.decode()
        assert "What publishing changes" in page
        assert "Added Bathing: 03 Partial/moderate assistance, day (Tue, Fri)" in page
        nurse_client.post(reverse("care_plan_publish", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


def test_a_bad_care_item_is_named_and_the_draft_unchanged(nurse_client, resident, template, nurse):
    assessment = services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template),
        reason="admission",
        signed_by=nurse,
        now=NOW,
    )
    plan = services.plan_draft_from_assessment(assessment=assessment, created_by=nurse, now=NOW)
    response = nurse_client.post(
        reverse("care_plan_item", args=[plan.pk]),
        {
            "prefix": "new",
            "new-category": "bathing",
            "new-instructions": "Shower",
            "new-planned_code": "03",
            "new-staff_count": "9",
            "new-minutes": "10",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Choose at least one shift." in body
    assert not plan.items.exists()


def test_the_med_tech_documents_bathing_with_the_code_observed(
    medtech_client, resident, template, nurse
):
    published_plan(resident, template, nurse, at=NOW - datetime.timedelta(days=1))
    tuesday = datetime.datetime(2026, 1, 20, 15, 0, tzinfo=datetime.UTC)  # 10:00, day shift
    services.care_tasks_generate(now=tuesday)
    bathing = CareTask.objects.get(item__category="bathing", shift_day=datetime.date(2026, 1, 20))
    with time_machine.travel(tuesday, tick=False):
        page = medtech_client.get(reverse("care_resident", args=[resident.pk])).content.decode()
        assert "Care this shift" in page and "Bathing" in page
        assert "New assessment" not in page  # a nurse's work
        assert '<option value="03" selected>' in page  # the planned level, prefilled
        response = medtech_client.post(
            reverse("care_task_record", args=[bathing.pk]),
            {"status": "done", "performance_code": "02"},
        )
        assert response.status_code == 302
        page = medtech_client.get(response.url).content.decode()
    record = CareRecord.objects.get(task=bathing)
    assert record.performance_code == "02"
    assert "Done (02 Substantial/maximal assistance)" in page
    bathing.refresh_from_db()
    assert bathing.state == TaskState.DONE


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_care_pages_read_in_constant_queries(
    nurse_client, facility, unit, resident, template, nurse
):
    published_plan(resident, template, nurse, at=NOW - datetime.timedelta(days=1))
    services.care_tasks_generate(now=NOW)
    with time_machine.travel(NOW, tick=False):
        shift_before = _queries(nurse_client, reverse("care_shift"))
        resident_before = _queries(nurse_client, reverse("care_resident", args=[resident.pk]))
    for _ in range(4):
        other = ResidentFactory(facility=facility, unit=unit)
        published_plan(
            other,
            template,
            nurse,
            at=NOW - datetime.timedelta(days=1),
            levels={"bathing": 5, "dressing": 4, "toileting": 3, "transfers": 4},
        )
        for reason in ("Fell", "Eats less"):  # monitored too: a check each on every shift
            services.monitoring_start(
                actor=nurse, resident=other, reason=reason, now=NOW - datetime.timedelta(hours=9)
            )
    services.care_tasks_generate(now=NOW - datetime.timedelta(hours=8))
    services.care_tasks_generate(now=NOW)
    with time_machine.travel(NOW, tick=False):
        assert _queries(nurse_client, reverse("care_shift")) == shift_before
        assert _queries(nurse_client, reverse("care_resident", args=[other.pk])) == resident_before


def test_the_med_pass_page_shows_the_care_still_to_document(
    medtech_client, resident, template, nurse
):
    published_plan(resident, template, nurse, at=NOW - datetime.timedelta(days=1))
    services.care_tasks_generate(now=NOW)
    url = reverse("resident_pass", args=[resident.pk])
    with time_machine.travel(NOW, tick=False):
        page = medtech_client.get(url).content.decode()
    # The day shift's toileting (bathing is not due on a Wednesday), documented right there.
    assert '<span class="badge warn">1 to document</span>' in page
    assert "Care to document" in page and 'name="back" value="pass"' in page
    task = CareTask.objects.get(
        shift_name="day", item__category="toileting", shift_day=datetime.date(2026, 1, 14)
    )
    with time_machine.travel(NOW, tick=False):
        response = medtech_client.post(
            reverse("care_task_record", args=[task.pk]),
            {"status": "done", "performance_code": "04", "back": "pass"},
        )
        assert response.url == f"{url}#care"
        page = medtech_client.get(url).content.decode()
    assert "Care to document" not in page and "to document</span>" not in page


def test_the_shift_care_list_follows_what_the_med_tech_passes(
    medtech_client, facility, unit, resident, template, nurse
):
    from tests.factories import UnitFactory

    south = UnitFactory(facility=facility, name="South Wing")
    other = ResidentFactory(facility=facility, unit=south, last_name="Southerly")
    for who in (resident, other):
        published_plan(who, template, nurse, at=NOW - datetime.timedelta(days=1))
    services.care_tasks_generate(now=NOW)
    with time_machine.travel(NOW, tick=False):
        everyone = medtech_client.get(reverse("care_shift")).content.decode()
        assert resident.last_name in everyone and "Southerly" in everyone
        chosen = medtech_client.post(reverse("passing_choose"), {"passing": f"unit:{south.pk}"})
        assert chosen.status_code == 302
        page = medtech_client.get(reverse("care_shift")).content.decode()
    assert "Southerly" in page and resident.last_name not in page
    assert "South Wing (unit)" in page


TODAY = datetime.date(2026, 1, 14)  # NOW's day in New York


def _htmx_record(client, task, **data):
    with time_machine.travel(NOW, tick=False):
        return client.post(
            reverse("care_task_record", args=[task.pk]),
            {"back": "pass", **data},
            HTTP_HX_REQUEST="true",
        )


def test_care_documented_from_the_med_pass_is_swapped_in_place_with_the_new_count(
    medtech_client, resident, template, nurse
):
    published_plan(
        resident,
        template,
        nurse,
        at=NOW - datetime.timedelta(days=1),
        levels={"toileting": 3, "dressing": 3},
    )
    services.care_tasks_generate(now=NOW)
    toileting, dressing = (
        CareTask.objects.get(shift_name="day", shift_day=TODAY, item__category=category)
        for category in ("toileting", "dressing")
    )
    response = _htmx_record(medtech_client, toileting, status="done", performance_code="03")
    line = response.content.decode()
    assert response.status_code == 200
    assert f'id="task-{toileting.pk}"' in line
    assert "Done (03 Partial/moderate assistance) by" in line and "<form" not in line
    # The page's count, out of band: one left (dressing).
    assert (
        '<span id="care-count" hx-swap-oob="true"> <span class="badge warn">1 to document' in line
    )
    assert CareRecord.objects.get(task=toileting).performance_code == "03"
    assert not CareRecord.objects.filter(task=dressing).exists()


def test_a_refused_care_line_comes_back_with_its_message_beside_the_field_and_records_nothing(
    medtech_client, resident, template, nurse
):
    published_plan(resident, template, nurse, at=NOW - datetime.timedelta(days=1))
    services.care_tasks_generate(now=NOW)
    task = CareTask.objects.get(shift_name="day", shift_day=TODAY, item__category="toileting")
    response = _htmx_record(medtech_client, task, status="refused", performance_code="", reason="")
    line = response.content.decode()
    assert response.status_code == 200
    reason_at = line.index(f'id="reason-{task.pk}"')
    message_at = line.index("Say why the care was not given.")
    assert reason_at < message_at < line.index("<button")  # beside the reason input
    assert f'value="refused" id="t{task.pk}-status_1" required checked' in line
    assert f'value="done" id="t{task.pk}-status_0" required>' in line
    assert "hx-swap-oob" not in line
    assert not CareRecord.objects.filter(task=task).exists()
