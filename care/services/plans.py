"""Service plans: drafted from an assessment, edited as a draft, published by a nurse (who sees
what changed against the plan it supersedes). An active plan is never edited in place."""

import datetime

from django.db import IntegrityError, transaction

from accounts.models import User
from core.errors import DomainError
from core.shifts import SHIFT_NAMES
from residents.models import Resident

from .. import rules
from ..models import (
    AdlCategory,
    Assessment,
    CareItem,
    PlanStatus,
    ServicePlan,
)
from .assessments import check_nurse
from .task_engine import care_tasks_cancel_open, care_tasks_generate_later

# What a draft starts with for each ADL category: the shifts, the weekdays (empty: every day)
# and the minutes; the nurse adjusts them before publishing.
DEFAULT_ITEM = {
    AdlCategory.BATHING: (["day"], [2, 5], 30),
    AdlCategory.DRESSING: (["day", "evening"], [], 15),
    AdlCategory.GROOMING: (["day"], [], 10),
    AdlCategory.EATING: (["day", "evening"], [], 20),
    AdlCategory.TOILETING: (["day", "evening", "night"], [], 10),
    AdlCategory.TRANSFERS: (["day", "evening", "night"], [], 10),
    AdlCategory.AMBULATION: (["day", "evening"], [], 10),
    AdlCategory.CONTINENCE: (["day", "evening", "night"], [], 10),
    AdlCategory.COGNITION: (["day", "evening"], [], 5),
    AdlCategory.MOBILITY_AIDS: (["day"], [], 5),
}
# Fields of a care item a nurse edits, and the words a change of each reads with.
ITEM_FIELDS = {
    "planned_code": "help",
    "instructions": "instructions",
    "staff_count": "staff",
    "shifts": "shifts",
    "weekdays": "days",
    "minutes": "minutes",
}
_CODE_WORDS = dict(rules.GG_CODES)


@transaction.atomic
def plan_draft_from_assessment(
    *, assessment: Assessment, created_by: User, now: datetime.datetime
) -> ServicePlan:
    """A draft plan with one care item per ADL the assessment found the resident needs help
    with (an answer planning help below "06 Independent")."""
    check_nurse(created_by, assessment.facility_id, "drafts a service plan")
    if ServicePlan.objects.filter(resident_id=assessment.resident_id, status="draft").exists():
        raise DomainError("This resident already has a draft plan: finish or publish it first.")
    plan = ServicePlan.objects.create(
        facility_id=assessment.facility_id,
        resident_id=assessment.resident_id,
        assessment=assessment,
        created_by=created_by,
        created_at=now,
    )
    items = []
    for answer in assessment.answers.select_related("question", "choice"):
        code = answer.choice.planned_code
        if code not in rules.PERFORMANCE_CODES or code == "06":
            continue
        shifts, weekdays, minutes = DEFAULT_ITEM[answer.question.category]
        items.append(
            CareItem(
                plan=plan,
                category=answer.question.category,
                instructions=answer.choice.label,
                planned_code=code,
                shifts=shifts,
                weekdays=weekdays,
                minutes=minutes,
            )
        )
    CareItem.objects.bulk_create(items)
    return plan


def _number(value, *, field: str, low: int, high: int, words: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise DomainError(f"{words} is a whole number from {low} to {high}.", field=field)
    return number


def _check_item(values: dict) -> dict:
    shifts = [s for s in SHIFT_NAMES if s in set(values.get("shifts") or [])]
    if not shifts:
        raise DomainError("Choose at least one shift.", field="shifts")
    try:
        weekdays = sorted({int(d) for d in values.get("weekdays") or []})
    except (TypeError, ValueError):
        weekdays = [0]
    if any(d < 1 or d > 7 for d in weekdays):
        raise DomainError("Choose days of the week.", field="weekdays")
    instructions = str(values.get("instructions") or "").strip()
    if not instructions:
        raise DomainError("Say in plain words what care is given.", field="instructions")
    if len(instructions) > 500:
        raise DomainError("Keep the instructions under 500 characters.", field="instructions")
    if values.get("planned_code") not in _CODE_WORDS:
        raise DomainError("Choose the level of help expected.", field="planned_code")
    return {
        "planned_code": values["planned_code"],
        "instructions": instructions,
        "shifts": shifts,
        "weekdays": weekdays,
        "staff_count": _number(
            values.get("staff_count", 1), field="staff_count", low=1, high=4, words="Staff"
        ),
        "minutes": _number(
            values.get("minutes", 10), field="minutes", low=1, high=240, words="Minutes"
        ),
    }


@transaction.atomic
def plan_item_save(
    *, plan: ServicePlan, category: str, values: dict, user: User, remove: bool = False
) -> CareItem | None:
    """Add, change or (remove=True) take out the draft's item for an ADL category."""
    check_nurse(user, plan.facility_id, "edits a service plan")
    plan = ServicePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.DRAFT:
        raise DomainError("Only a draft plan is edited; start a new draft to change this one.")
    if category not in AdlCategory.values:
        raise DomainError("Choose a kind of care.", field="category")
    item = plan.items.filter(category=category).first()
    if remove:
        if item is not None:
            item.delete()
        return None
    fields = _check_item(values)
    if item is None:
        item = CareItem(plan=plan, category=category)
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    return item


def _describe(name: str, value) -> str:
    if name == "planned_code":
        return _CODE_WORDS.get(value, value)
    if name == "shifts":
        return ", ".join(value)
    if name == "weekdays":
        return rules.days_words(value).replace("Every day", "every day")
    return str(value)


def plan_changes(previous: list[CareItem], current: list[CareItem]) -> list[str]:
    """What publishing `current` changes against `previous`, one line each, in plain words."""
    before = {item.category: item for item in previous}
    after = {item.category: item for item in current}
    lines = []
    for category in AdlCategory:
        old, new = before.get(category), after.get(category)
        label = category.label
        if old is None and new is not None:
            lines.append(
                f"Added {label}: {_describe('planned_code', new.planned_code)}, "
                f"{_describe('shifts', new.shifts)} ({_describe('weekdays', new.weekdays)})"
            )
        elif old is not None and new is None:
            lines.append(f"Removed {label}")
        elif old is not None and new is not None:
            for name, words in ITEM_FIELDS.items():
                was, now = getattr(old, name), getattr(new, name)
                if was != now:
                    lines.append(
                        f"{label} {words}: {_describe(name, was)} → {_describe(name, now)}"
                    )
    return lines


@transaction.atomic
def plan_publish(*, plan: ServicePlan, published_by: User, now: datetime.datetime) -> ServicePlan:
    """Make the draft the resident's active plan, superseding the one before: its tasks of
    shifts that have not started are cancelled; the new plan's tasks start with the next shift
    (the beat, or the queued generation, makes them)."""
    check_nurse(published_by, plan.facility_id, "publishes a service plan")
    plan = ServicePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.DRAFT:
        raise DomainError("This plan has already been published.")
    items = list(plan.items.all())
    if not items:
        raise DomainError("Add at least one care item before publishing.")
    resident = Resident.objects.select_for_update().get(pk=plan.resident_id)
    previous = ServicePlan.objects.filter(resident=resident, status=PlanStatus.ACTIVE).first()
    plan.changes = plan_changes(list(previous.items.all()) if previous else [], items)
    if previous is not None:
        previous.status = PlanStatus.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at"])
        care_tasks_cancel_open(
            item_ids=[item.pk for item in previous.items.all()], opening_after=now, reason="plan"
        )
    plan.status = PlanStatus.ACTIVE
    plan.published_by = published_by
    plan.published_at = now
    try:
        with transaction.atomic():
            plan.save(update_fields=["status", "published_by", "published_at", "changes"])
    except IntegrityError:
        raise DomainError("Another plan was published meanwhile; reload the page.") from None
    care_tasks_generate_later(plan.facility_id)
    return plan
