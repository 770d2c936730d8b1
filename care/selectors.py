"""Reads the care pages share (constant queries as residents, plans and tasks grow)."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch, Q

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
    MonitoringCheck,
    MonitoringEpisode,
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
    episodes: list[MonitoringEpisode]  # running, or ended in the last 7 days
    checks: list[MonitoringCheck]  # of the last day's shifts up to now
    monitored: bool = False  # an episode is running now


def _plans(resident: Resident) -> dict[str, ServicePlan]:
    plans = ServicePlan.objects.filter(
        resident=resident, status__in=[PlanStatus.ACTIVE, PlanStatus.DRAFT]
    ).prefetch_related(Prefetch("items", queryset=CareItem.objects.order_by("category")))
    return {plan.status: plan for plan in plans}


def resident_care(*, resident: Resident, now: datetime.datetime) -> ResidentCare:
    """The resident's latest assessment, active and draft plans (with their items), and the
    care tasks of the last day's shifts up to now (with their live records and amendments),
    its monitoring episodes (running or ended in the last week) and their checks of the last
    day: nine queries, whatever the number of tasks."""
    shift = shift_at(now, resident.facility.shifts)
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
    week_ago = now - datetime.timedelta(days=7)
    episodes = list(
        MonitoringEpisode.objects.filter(resident=resident)
        .filter(Q(ended_at__isnull=True, ends_at__gt=week_ago) | Q(ended_at__gt=week_ago))
        .select_related("started_by", "ended_by")
    )
    checks = list(
        MonitoringCheck.objects.filter(
            resident=resident,
            window_opens_at__lte=now,
            window_closes_at__gt=now - datetime.timedelta(hours=24),
        )
        .exclude(state="cancelled")
        .select_related("episode", "checked_by")
        .order_by("-window_opens_at", "pk")
    )
    return ResidentCare(
        assessment,
        plans.get(PlanStatus.ACTIVE),
        plans.get(PlanStatus.DRAFT),
        shift,
        tasks,
        episodes,
        checks,
        any(e.ended_at is None and e.ends_at > now for e in episodes),
    )


@dataclass
class ShiftRow:
    resident: Resident
    open: int
    documented: int
    monitoring: bool = False  # the resident has monitoring checks on this shift


def shift_care(*, facility, now: datetime.datetime, passing=None) -> tuple[Shift, list[ShiftRow]]:
    """The current shift's care by resident: how many tasks and monitoring checks are open and
    documented, for the residents of `passing` (a unit, a cart, "my residents";
    residents.selectors.Passing) when given (three queries: tasks, checks, residents)."""
    shift = shift_at(now, facility.shifts)
    counts: dict[int, list[int]] = {}
    monitored = set()
    for model in (CareTask, MonitoringCheck):
        work = model.objects.filter(facility=facility, window_opens_at=shift.starts_at).exclude(
            state="cancelled"
        )
        if passing is not None:
            work = work.filter(passing.residents_q("resident__"))
        for resident_id, state in work.values_list("resident_id", "state"):
            row = counts.setdefault(resident_id, [0, 0])
            row[0 if state in ("due", "overdue") else 1] += 1
            if model is MonitoringCheck:
                monitored.add(resident_id)
    residents = Resident.objects.filter(pk__in=list(counts)).select_related("unit")
    rows = [ShiftRow(r, *counts[r.pk], r.pk in monitored) for r in residents]
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
), checks AS (
    SELECT c.* FROM care_monitoringcheck AS c
    WHERE c.resident_id = %(resident)s AND c.state IN ('due', 'overdue', 'missed')
      AND c.window_opens_at <= %(now)s AND c.window_closes_at > %(day_ago)s
), episodes AS (
    SELECT e.* FROM care_monitoringepisode AS e
    WHERE e.resident_id = %(resident)s
      AND ((e.ended_at IS NULL AND e.ends_at > %(now)s) OR e.id IN (SELECT episode_id FROM checks))
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
    ) AS u),
    (SELECT json_agg(episodes ORDER BY episodes.started_at, episodes.id) FROM episodes),
    (SELECT json_agg(checks ORDER BY checks.window_opens_at, checks.id) FROM checks)
"""


@dataclass
class ToDocument:
    """What is still to document for a resident now: care tasks, monitoring checks, and the
    monitoring episodes running (the resident is "under monitoring")."""

    tasks: list[CareTask]
    checks: list[MonitoringCheck]
    episodes: list[MonitoringEpisode]

    @property
    def count(self) -> int:
        return len(self.tasks) + len(self.checks)


def care_to_document(*, resident_id: int, now: datetime.datetime) -> ToDocument:
    """The resident's care and monitoring checks still to document, of the shift running now
    or ended within a day, for the med pass page beside the doses, and the monitoring episodes
    running: one statement (core.rows), each task with its item and its live record
    (`task.record`; None unless an amendment is in flight), each check with its episode."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(
            _TO_DOCUMENT_SQL,
            {"resident": resident_id, "now": now, "day_ago": now - datetime.timedelta(hours=24)},
        )
        (
            task_rows,
            item_rows,
            record_rows,
            amendment_rows,
            user_rows,
            episode_rows,
            check_rows,
        ) = cursor.fetchone()
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
    # The episodes running, and those of the checks (one ended since keeps its late check).
    episodes = rows.instances(MonitoringEpisode, episode_rows)
    checks = rows.instances(MonitoringCheck, check_rows)
    rows.attach(checks, "episode", rows.by_pk(episodes))
    running = [e for e in episodes if e.ended_at is None and e.ends_at > now]
    return ToDocument(tasks, checks, running)
