"""An assessment scores the resident and sets a care level; a plan is drafted from it and
published by a nurse, who sees what changed against the plan it supersedes."""

import datetime

import pytest

from accounts.models import Role
from care import services
from care.models import AdlCategory, CareLevel, PlanStatus, ServicePlan
from core.errors import DomainError
from tests.factories import member

from .conftest import NOW, answers_for, published_plan

pytestmark = pytest.mark.django_db


def test_the_score_sets_the_care_level_from_the_facilitys_table(resident, template, nurse):
    CareLevel.objects.filter(facility=resident.facility, lowest_score=8).update(name="Assisted")
    levels = {AdlCategory.BATHING: 6, AdlCategory.DRESSING: 4, AdlCategory.TOILETING: 3}
    assessment = services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template, levels),
        reason="admission",
        signed_by=nurse,
        now=NOW,
    )
    assert assessment.total_score == 5 + 3 + 2
    assert assessment.care_level == "Assisted"
    assert assessment.next_due == datetime.date(2026, 7, 15)
    assert assessment.answers.count() == template.questions.count()


def test_an_unanswered_question_is_named_and_nothing_is_signed(resident, template, nurse):
    answers = answers_for(template)
    missing = next(iter(answers))
    del answers[missing]
    with pytest.raises(DomainError) as refused:
        services.assessment_sign(
            resident=resident,
            template=template,
            answers=answers,
            reason="admission",
            signed_by=nurse,
            now=NOW,
        )
    assert refused.value.field == f"q{missing}"
    assert not resident.assessments.exists()


def test_a_med_tech_does_not_sign_an_assessment(resident, template, facility):
    with pytest.raises(DomainError, match="Only a nurse"):
        services.assessment_sign(
            resident=resident,
            template=template,
            answers=answers_for(template),
            reason="admission",
            signed_by=member(facility, Role.MED_TECH),
            now=NOW,
        )


def test_the_draft_has_an_item_for_each_adl_needing_help(resident, template, nurse):
    plan = published_plan(resident, template, nurse)
    items = {item.category: item for item in plan.items.all()}
    assert set(items) == {AdlCategory.BATHING, AdlCategory.TOILETING}
    assert items[AdlCategory.BATHING].planned_code == "03"
    assert items[AdlCategory.TOILETING].shifts == ["day", "evening", "night"]
    assert plan.status == PlanStatus.ACTIVE and plan.published_by == nurse
    assert plan.changes[0].startswith("Added Bathing: 03 Partial/moderate assistance, day")


def test_publishing_supersedes_the_active_plan_and_says_what_changed(resident, template, nurse):
    first = published_plan(resident, template, nurse)
    later = NOW + datetime.timedelta(days=30)
    second = published_plan(
        resident,
        template,
        nurse,
        at=later,
        levels={AdlCategory.BATHING: 5, AdlCategory.DRESSING: 3},
    )
    first.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED and first.superseded_at == later
    assert second.changes == [
        "Bathing help: 03 Partial/moderate assistance → 02 Substantial/maximal assistance",
        "Bathing instructions: Needs hands-on help with part of it → "
        "Needs hands-on help with most of it",
        "Added Dressing: 04 Supervision or touching assistance, day, evening (every day)",
        "Removed Toileting",
    ]
    assert ServicePlan.objects.filter(resident=resident, status=PlanStatus.ACTIVE).count() == 1


def test_an_active_plan_is_never_edited(resident, template, nurse):
    plan = published_plan(resident, template, nurse)
    with pytest.raises(DomainError, match="Only a draft plan is edited"):
        services.plan_item_save(
            plan=plan,
            category=AdlCategory.BATHING,
            values={"instructions": "x", "planned_code": "01", "shifts": ["day"]},
            user=nurse,
        )


def test_a_draft_item_needs_a_shift_and_plain_words(resident, template, nurse):
    assessment = services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template),
        reason="admission",
        signed_by=nurse,
        now=NOW,
    )
    plan = services.plan_draft_from_assessment(assessment=assessment, created_by=nurse, now=NOW)
    values = {"instructions": "Help into the shower", "planned_code": "03", "shifts": []}
    with pytest.raises(DomainError) as refused:
        services.plan_item_save(plan=plan, category="bathing", values=values, user=nurse)
    assert refused.value.field == "shifts"
    item = services.plan_item_save(
        plan=plan,
        category="bathing",
        values={**values, "shifts": ["evening", "day"], "weekdays": ["3"], "minutes": 25},
        user=nurse,
    )
    assert item.shifts == ["day", "evening"] and item.weekdays == [3]
    with pytest.raises(DomainError, match="at least one care item"):
        services.plan_item_save(plan=plan, category="bathing", values={}, user=nurse, remove=True)
        services.plan_publish(plan=plan, published_by=nurse, now=NOW)


def test_the_administrator_edits_the_care_level_table(admin_client, facility, resident, template):
    from django.urls import reverse

    response = admin_client.post(
        reverse("care_levels"), {"name": "Level 4 — memory care", "lowest_score": "30"}
    )
    assert response.status_code == 302
    refused = admin_client.post(
        reverse("care_levels"), {"name": "Duplicate start", "lowest_score": "30"}
    )
    assert "Another level already has this name or starts at this score." in (
        refused.content.decode()
    )
    levels = list(CareLevel.objects.filter(facility=facility).values_list("lowest_score", "name"))
    assert (30, "Level 4 — memory care") in levels and len(levels) == 4
    nurse = member(facility, Role.NURSE)
    # The last answer of every question: the most help.
    levels_answers = dict.fromkeys(AdlCategory.values, 6)
    levels_answers.update(eating=5, continence=4, cognition=4, mobility_aids=4)
    assessment = services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template, levels_answers),
        reason="change",
        signed_by=nurse,
        now=NOW,
    )
    assert assessment.total_score >= 30 and assessment.care_level == "Level 4 — memory care"
    with pytest.raises(DomainError, match="Only an administrator"):
        services.care_level_save(actor=nurse, facility=facility, name="x", lowest_score=1)
