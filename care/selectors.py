"""Reads the care pages share (constant queries as residents, plans and tasks grow)."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch

from accounts.models import User
from core import rows
from core.shifts import Shift, shift_at
from residents.models import Resident

from .models import (
    Assessment,
    CareAmendment,
    CareItem,
    CareRecord,
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


_TO_DOCUMENT_SQL = """
WITH tasks AS (
    SELECT t.* FROM care_caretask AS t
    WHERE t.resident_id = %(resident)s AND t.state IN ('due', 'overdue', 'missed')
      AND t.window_opens_at <= %(now)s AND t.window_closes_at > %(day_ago)s
), items AS (
    SELECT i.* FROM care_careitem AS i WHERE i.id IN (SELECT item_id FROM tasks)
), records AS (
    SELECT r.* FROM care_carerecord AS r
    WHERE r.task_id IN (SELECT id FROM tasks) AND NOT r.voided
), amendments AS (
    SELECT a.* FROM care_careamendment AS a WHERE a.record_id IN (SELECT id FROM records)
)
SELECT
    (SELECT json_agg(tasks ORDER BY tasks.window_opens_at, items.category, tasks.id)
     FROM tasks JOIN items ON items.id = tasks.item_id),
    (SELECT json_agg(items) FROM items),
    (SELECT json_agg(records) FROM records),
    (SELECT json_agg(amendments ORDER BY amendments.amended_at, amendments.id) FROM amendments),
    (SELECT json_agg(u) FROM (
        SELECT id, username, first_name, last_name, title FROM accounts_user
        WHERE id IN (SELECT recorded_by_id FROM records UNION SELECT amended_by_id FROM amendments)
    ) AS u)
"""


def care_to_document(*, resident_id: int, now: datetime.datetime) -> list[CareTask]:
    """The resident's care still to document, of the shift running now or ended within a day,
    for the med pass page beside the doses: one statement (core.rows), each task with its item
    and its live record (`task.record`; None unless an amendment is in flight)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TO_DOCUMENT_SQL,
            {"resident": resident_id, "now": now, "day_ago": now - datetime.timedelta(hours=24)},
        )
        task_rows, item_rows, record_rows, amendment_rows, user_rows = cursor.fetchone()
    tasks = rows.instances(CareTask, task_rows)
    rows.attach(tasks, "item", rows.by_pk(rows.instances(CareItem, item_rows)))
    users = rows.by_pk(rows.instances(User, user_rows))
    records = rows.instances(CareRecord, record_rows)
    rows.attach(records, "recorded_by", users)
    amendments = rows.instances(CareAmendment, amendment_rows)
    rows.attach(amendments, "amended_by", users)
    rows.attach_many(records, "amendments", amendments, "record_id")
    live = {record.task_id: record for record in records}
    for task in tasks:
        task.live_records = [live[task.pk]] if task.pk in live else []
    return tasks
