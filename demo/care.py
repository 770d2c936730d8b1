"""The demo's care: every resident assessed and on an active service plan fitting their age and
needs, with the last days of care documented through the services (DEMO_HISTORY_DAYS, 35 by
default): mostly done at the planned level of help, some refused, a few left undocumented (the
last days' turn missed, with their alerts), and one declining resident whose performance,
worse than planned, raises "consider reassessment"."""

import os
import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, User
from care import rules as care_rules
from care import services as care_services
from care.catalog import adl_template
from care.models import AdlCategory, CareTask, ServicePlan, TaskState
from residents.models import Resident, ResidentStatus

from .build import nurse_of

# Who documents the care of each home (its med techs, by username).
CAREGIVERS = {"Maple Grove Assisted Living": ["caregiver", "medtech", "medtech3"]}
REFUSALS = ["Wanted to rest", "Said not today", "Asked for later; declined again"]
NOT_DONE = ["Out with family", "Asleep; will offer next shift"]
# Missed care is left only in the last days (older shifts were documented late).
MISSED_WITHIN = timedelta(days=3)


def _levels(rng: random.Random, resident: Resident, today: date) -> dict[str, int]:
    """The answers (choice positions; 1 is independent) for a resident of this age."""
    age = (today - resident.date_of_birth).days // 365
    need = 1 if age < 75 else 2 if age < 85 else 3
    levels = {}
    for category in AdlCategory.values:
        base = need + rng.choice([-1, 0, 0, 1])
        levels[category] = max(1, min(base, 4 if category in ("continence", "cognition") else 6))
    levels["bathing"] = max(levels["bathing"], 3)  # help bathing is the rule in assisted living
    levels["mobility_aids"] = max(1, min(need + rng.choice([-1, 0, 1]), 4))
    return levels


def _answers(template, levels: dict[str, int]) -> dict[int, int]:
    chosen = {}
    for question in template.questions.prefetch_related("choices"):
        choices = list(question.choices.all())
        position = min(levels.get(question.category, 1), len(choices))
        chosen[question.pk] = next(c.pk for c in choices if c.position == position)
    return chosen


def _documenters(facility: Facility, staff: dict[str, User]) -> list[User]:
    names = CAREGIVERS.get(facility.name, ["medtech2"])
    return [staff[name] for name in names if name in staff]


def seed_care(
    facilities: dict[str, Facility], staff: dict[str, User], report=lambda line: None
) -> int:
    """Assess and plan every present resident without a plan, then document their care since
    the history's start; returns how many care records were made. Skipped where plans exist."""
    if ServicePlan.objects.filter(facility__in=facilities.values()).exists():
        return 0
    days = max(0, int(os.environ.get("DEMO_HISTORY_DAYS", "35")))
    now = timezone.now()
    start = now - timedelta(days=days or 1)
    rng = random.Random(1313)
    template = adl_template()
    residents = list(
        Resident.objects.filter(facility__in=facilities.values(), status=ResidentStatus.ACTIVE)
        .select_related("facility")
        .order_by("facility__name", "last_name", "pk")
    )
    declining = residents[len(residents) // 3] if residents else None
    report(f"care: assessing {len(residents)} residents and publishing their plans")
    with transaction.atomic():
        for resident in residents:
            nurse = nurse_of(resident.facility, staff)
            assessment = care_services.assessment_sign(
                resident=resident,
                template=template,
                answers=_answers(template, _levels(rng, resident, start.date())),
                reason="admission" if resident.admission_date >= start.date() else "routine",
                signed_by=nurse,
                now=start,
            )
            plan = care_services.plan_draft_from_assessment(
                assessment=assessment, created_by=nurse, now=start
            )
            care_services.plan_publish(plan=plan, published_by=nurse, now=start)
    moment = start
    while moment < now:
        care_services.care_tasks_generate(now=moment)
        moment += timedelta(hours=8)
    care_services.care_tasks_generate(now=now)
    return _document(facilities, staff, now=now, rng=rng, declining=declining, report=report)


def _document(facilities, staff, *, now: datetime, rng, declining, report) -> int:
    tasks = list(
        CareTask.objects.filter(
            facility__in=facilities.values(),
            state__in=[TaskState.DUE, TaskState.OVERDUE],
            window_closes_at__lte=now,
        )
        .select_related("item", "facility")
        .order_by("window_opens_at", "pk")
    )
    report(f"care: documenting {len(tasks)} care tasks")
    made = 0
    worse_from = now - timedelta(days=care_rules.WORSE_THAN_PLANNED_DAYS - 1)
    for task in tasks:
        roll = rng.random()
        if task.window_closes_at > now - MISSED_WITHIN and roll < 0.02:
            continue  # left undocumented: the sweep turns it missed
        who = rng.choice(_documenters(task.facility, staff))
        at = task.window_opens_at + timedelta(minutes=rng.randint(20, 400))
        at = min(at, task.window_closes_at - timedelta(minutes=5))
        code = task.item.planned_code
        if (
            declining is not None
            and task.resident_id == declining.pk
            and task.window_opens_at >= worse_from
            and task.item.category in ("transfers", "toileting", "ambulation", "bathing")
            and code != "01"
        ):
            code = f"{int(code) - 1:02d}"  # needing more help than planned
        if roll < 0.03:
            status, reason, code = "refused", rng.choice(REFUSALS), ""
        elif roll < 0.04:
            status, reason, code = "not_done", rng.choice(NOT_DONE), ""
        else:
            status, reason = "done", ""
        care_services.care_task_record(
            task_id=task.pk,
            status=status,
            performance_code=code,
            reason=reason,
            user=who,
            now=at,
        )
        made += 1
    care_services.care_tasks_mark(now=now)
    return made
