"""Reads the care pages share (constant queries as residents, plans and tasks grow)."""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch

from core.shifts import Shift, shift_at
from residents.models import Resident

from .models import (
    Assessment,
    CareItem,
    CareTask,
    PlanStatus,
    ServicePlan,
    live_record_prefetch,
)


@dataclass
class ResidentCare:
    assessment: Assessment | None
    active: ServicePlan | None
    draft: ServicePlan | None
    shift: Shift
    tasks: list[CareTask]


def _plans(resident: Resident) -> dict[str, ServicePlan]:
    plans = ServicePlan.objects.filter(
        resident=resident, status__in=[PlanStatus.ACTIVE, PlanStatus.DRAFT]
    ).prefetch_related(Prefetch("items", queryset=CareItem.objects.order_by("category")))
    return {plan.status: plan for plan in plans}


def resident_care(*, resident: Resident, now: datetime.datetime) -> ResidentCare:
    """The resident's latest assessment, active and draft plans (with their items), and the
    care tasks of the last day's shifts up to now (with their live records and amendments):
    seven queries, whatever the number of tasks."""
    shift = shift_at(now, resident.facility.tz)
    assessment = Assessment.objects.filter(resident=resident).select_related("signed_by").first()
    plans = _plans(resident)
    tasks = list(
        CareTask.objects.filter(
            resident=resident,
            window_opens_at__lte=now,
            window_closes_at__gt=now - datetime.timedelta(hours=24),
        )
        .select_related("item")
        .prefetch_related(live_record_prefetch())
        .order_by("-window_opens_at", "item__category")
    )
    return ResidentCare(
        assessment, plans.get(PlanStatus.ACTIVE), plans.get(PlanStatus.DRAFT), shift, tasks
    )


@dataclass
class ShiftRow:
    resident: Resident
    open: int
    documented: int


def shift_care(*, facility, now: datetime.datetime, passing=None) -> tuple[Shift, list[ShiftRow]]:
    """The current shift's care by resident: how many tasks are open and documented, for the
    residents of `passing` (a unit, a cart, "my residents"; residents.selectors.Passing) when
    given (one query for the tasks, one for their residents)."""
    shift = shift_at(now, facility.tz)
    counts: dict[int, list[int]] = {}
    tasks = CareTask.objects.filter(facility=facility, window_opens_at=shift.starts_at)
    if passing is not None:
        tasks = tasks.filter(passing.residents_q("resident__"))
    for resident_id, state in tasks.values_list("resident_id", "state"):
        row = counts.setdefault(resident_id, [0, 0])
        row[0 if state in ("due", "overdue") else 1] += 1
    residents = Resident.objects.filter(pk__in=list(counts)).select_related("unit")
    rows = [ShiftRow(r, *counts[r.pk]) for r in residents]
    rows.sort(key=lambda row: (row.resident.unit.name, row.resident.room, row.resident.last_name))
    return shift, rows


def care_to_document(*, resident_id: int, now: datetime.datetime) -> list[CareTask]:
    """The resident's care still to document, of the shift running now or ended within a day,
    for the med pass page beside the doses (two queries: the tasks, and their live records)."""
    return list(
        CareTask.objects.filter(
            resident_id=resident_id,
            state__in=("due", "overdue", "missed"),
            window_opens_at__lte=now,
            window_closes_at__gt=now - datetime.timedelta(hours=24),
        )
        .select_related("item")
        .prefetch_related(live_record_prefetch())
        .order_by("window_opens_at", "item__category")
    )
