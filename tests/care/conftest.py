import datetime

import pytest

from accounts.models import Role
from care import services
from care.catalog import adl_template
from care.models import AdlCategory
from tests.factories import member

# 10:00 in New York on a winter Wednesday: the day shift (07-15) is running.
NOW = datetime.datetime(2026, 1, 14, 15, 0, tzinfo=datetime.UTC)


@pytest.fixture
def template(db):
    return adl_template()


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE)


def answers_for(template, levels: dict[str, int] | None = None) -> dict[int, int]:
    """Question id -> choice id: the choice at position `levels[category]` (1: independent)."""
    levels = levels or {}
    chosen = {}
    for question in template.questions.prefetch_related("choices"):
        position = levels.get(question.category, 1)
        chosen[question.pk] = next(c.pk for c in question.choices.all() if c.position == position)
    return chosen


def published_plan(resident, template, nurse, *, at=NOW, levels=None):
    """An assessment signed and its plan published by `nurse` at `at`."""
    levels = levels or {AdlCategory.BATHING: 4, AdlCategory.TOILETING: 3}
    assessment = services.assessment_sign(
        resident=resident,
        template=template,
        answers=answers_for(template, levels),
        reason="admission",
        signed_by=nurse,
        now=at,
    )
    plan = services.plan_draft_from_assessment(assessment=assessment, created_by=nurse, now=at)
    return services.plan_publish(plan=plan, published_by=nurse, now=at)
