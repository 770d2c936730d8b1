"""The care task engine: each shift's care tasks made ahead from the active service plans,
moved by the clock, cancelled by events — the timed-work pattern the dose engine follows.

Each run looks at what the rows say now, so running twice, two at once, or after hours of
downtime all end in the same place: the unique key (item, shift day, shift name) refuses a
second copy; the sweep reads only open rows through a partial index and moves each once.
"""

import datetime
from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Facility
from core.audit import automatic_work
from core.queueing import send_after_commit
from core.shifts import Shift, shift_after, shift_at
from residents.models import ResidentStatus

from .. import rules
from ..models import (
    TASK_OPEN_STATES,
    CareItem,
    CareTask,
    MonitoringCheck,
    MonitoringEpisode,
    PlanStatus,
    TaskState,
)
from ..signals import care_tasks_missed, monitoring_checks_missed

HORIZON = datetime.timedelta(hours=24)
# After an outage a facility's tasks are filled in from where its last run left them, at most
# this far back, so the gap's tasks exist and go missed (one alert each) instead of a silent hole.
CATCH_UP = datetime.timedelta(days=7)
CARE_ENGINE = "care task engine"


def care_tasks_generate_later(facility_id: int) -> None:
    """After commit, ask a worker to make the facility's care tasks now (a plan was published)."""
    send_after_commit("CARE_GENERATION_QUEUE", facility_id)


def _starts(facility_ids: list[int], now: datetime.datetime) -> dict[int, datetime.datetime]:
    """Where each facility's run starts: now, while its tasks reach this far; else where its
    last task opened, at most CATCH_UP back. One index lookup per facility."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f.id, (SELECT max(t.window_opens_at) FROM care_caretask t
                          WHERE t.facility_id = f.id)
            FROM unnest(%s::bigint[]) AS f(id)
            """,
            [facility_ids],
        )
        latest = dict(cursor.fetchall())
    starts = {}
    for facility_id in facility_ids:
        last = latest.get(facility_id)
        starts[facility_id] = now if last is None or last >= now else max(last, now - CATCH_UP)
    return starts


def _shifts(start: datetime.datetime, end: datetime.datetime, policy) -> list[Shift]:
    """The facility's shifts from the one running at `start` to the last starting before `end`."""
    shifts = [shift_at(start, policy)]
    while shifts[-1].ends_at < end:
        shifts.append(shift_after(shifts[-1], policy))
    return shifts


@automatic_work(CARE_ENGINE)
def care_tasks_generate(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> int:
    """Make the care tasks of the shifts running in the next 24 hours (and, after an outage,
    of the shifts since the last run) for every item of every active plan of a present
    resident, and a monitoring check per shift of every running monitoring episode; return
    how many were added.

    A plan's tasks start with the first shift that starts after it was published (the shift
    running then keeps the tasks of the plan before); none before the resident was present.
    An episode's checks start with the shift running when it started and end with the shift
    running when it ends (or a nurse ended it).
    """
    now = now or timezone.now()
    facilities = Facility.objects.order_by("pk")
    if facility_ids is not None:
        facilities = facilities.filter(pk__in=facility_ids)
    # Each facility's own shifts (its zone and start times): the tasks' windows are its shifts.
    zones = {
        f.pk: f.shifts
        for f in facilities.only(
            "id", "timezone", "day_shift_starts", "evening_shift_starts", "night_shift_starts"
        )
    }
    if not zones:
        return 0
    starts = _starts(list(zones), now)
    items = list(
        CareItem.objects.filter(
            plan__status=PlanStatus.ACTIVE,
            plan__facility_id__in=list(zones),
            plan__resident__status=ResidentStatus.ACTIVE,
        ).values_list(
            "pk",
            "plan__facility_id",
            "plan__resident_id",
            "plan__published_at",
            "plan__resident__present_since",
            "shifts",
            "weekdays",
        )
    )
    # Every facility's shifts in one list; a task is (item, index of its shift in the list).
    shifts: list[Shift] = []
    shift_facility: list[int] = []
    of_facility: dict[int, list[tuple[int, Shift]]] = {}
    for facility_id, start in starts.items():
        for shift in _shifts(start, now + HORIZON, zones[facility_id]):
            of_facility.setdefault(facility_id, []).append((len(shifts), shift))
            shifts.append(shift)
            shift_facility.append(facility_id)
    existing = _existing(list(zones), min(starts.values()))
    pair_items: list[int] = []
    pair_shifts: list[int] = []
    for item_id, facility_id, _resident, published_at, present_since, names, weekdays in items:
        for index, shift in of_facility[facility_id]:
            if shift.name not in names or (weekdays and shift.day.isoweekday() not in weekdays):
                continue
            if shift.starts_at < published_at or (
                present_since is not None and shift.ends_at <= present_since
            ):
                continue
            if (item_id, shift.day, shift.name) in existing:
                continue
            pair_items.append(item_id)
            pair_shifts.append(index)
    check_episodes, check_shifts = _missing_checks(of_facility, min(starts.values()))
    with transaction.atomic():
        _lock_residents(list(zones), pair_items, check_episodes, now=now, until=now + HORIZON)
        _revive(list(zones), now=now, until=now + HORIZON)
        added = _insert(pair_items, pair_shifts, shifts, now=now) if pair_items else 0
        if check_episodes:
            added += _insert_checks(check_episodes, check_shifts, shifts, now=now)
        return added


def _missing_checks(
    of_facility: dict[int, list[tuple[int, Shift]]], since: datetime.datetime
) -> tuple[list[int], list[int]]:
    """(episode, index of its shift) of the checks the running episodes still lack."""
    episodes = MonitoringEpisode.objects.filter(
        facility_id__in=list(of_facility),
        ended_at__isnull=True,
        ends_at__gt=since,
        resident__status=ResidentStatus.ACTIVE,
    ).values_list("pk", "facility_id", "started_at", "ends_at")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT episode_id, shift_day, shift_name FROM care_monitoringcheck "
            "WHERE facility_id = ANY(%s::bigint[]) AND window_opens_at >= %s",
            [list(of_facility), since - datetime.timedelta(hours=24)],
        )
        existing = set(cursor.fetchall())
    pair_episodes: list[int] = []
    pair_shifts: list[int] = []
    for episode_id, facility_id, started_at, ends_at in episodes:
        for index, shift in of_facility[facility_id]:
            if shift.ends_at <= started_at or shift.starts_at >= ends_at:
                continue
            if (episode_id, shift.day, shift.name) in existing:
                continue
            pair_episodes.append(episode_id)
            pair_shifts.append(index)
    return pair_episodes, pair_shifts


def _lock_residents(
    facility_ids: list[int], item_ids: list[int], episode_ids: list[int], *, now, until
) -> None:
    """Share-lock, in id order, the residents this run may write tasks for (those of the items
    with missing tasks and of the episodes with missing checks, and those with
    absence-cancelled tasks or checks ahead). An absence, a plan's publication or the end of an
    episode locks the resident's row before it cancels tasks: one in progress is waited for,
    and the statements that follow read the plan's, episode's and resident's status again."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.id FROM residents_resident AS r
            WHERE r.id IN (
                SELECT p.resident_id FROM care_careitem AS i
                JOIN care_serviceplan AS p ON p.id = i.plan_id
                WHERE i.id = ANY(%(items)s::bigint[])
                UNION
                SELECT e.resident_id FROM care_monitoringepisode AS e
                WHERE e.id = ANY(%(episodes)s::bigint[])
                UNION
                SELECT t.resident_id FROM care_caretask AS t
                WHERE t.facility_id = ANY(%(facilities)s::bigint[])
                  AND t.window_opens_at > %(now)s AND t.window_opens_at < %(until)s
                  AND t.state = 'cancelled' AND t.cancel_reason IN ('loa', 'hospital')
                UNION
                SELECT c.resident_id FROM care_monitoringcheck AS c
                WHERE c.facility_id = ANY(%(facilities)s::bigint[])
                  AND c.window_opens_at > %(now)s AND c.window_opens_at < %(until)s
                  AND c.state = 'cancelled' AND c.cancel_reason IN ('loa', 'hospital')
            )
            ORDER BY r.id
            FOR SHARE
            """,
            {
                "items": sorted(set(item_ids)),
                "episodes": sorted(set(episode_ids)),
                "facilities": facility_ids,
                "now": now,
                "until": until,
            },
        )


def _existing(facility_ids: list[int], since: datetime.datetime) -> set[tuple]:
    """(item, shift day, shift name) of the facilities' tasks whose shift starts from `since`
    on (their shifts running then too), any state."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, shift_day, shift_name FROM care_caretask "
            "WHERE facility_id = ANY(%s::bigint[]) AND window_opens_at >= %s",
            [facility_ids, since - datetime.timedelta(hours=24)],
        )
        return set(cursor.fetchall())


def _revive(facility_ids: list[int], *, now, until) -> int:
    """Tasks and checks an absence cancelled come back once the resident is present again, for
    shifts still ahead, while their plan is active or their episode runs."""
    parameters = {"facilities": facility_ids, "now": now, "until": until, "due": TaskState.DUE}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE care_monitoringcheck AS c SET state = %(due)s, cancel_reason = '',
                                                 state_changed_at = %(now)s
            FROM residents_resident AS r, care_monitoringepisode AS e
            WHERE c.facility_id = ANY(%(facilities)s::bigint[])
              AND c.window_opens_at > %(now)s AND c.window_opens_at < %(until)s
              AND c.state = 'cancelled' AND c.cancel_reason IN ('loa', 'hospital')
              AND r.id = c.resident_id AND r.status = 'active'
              AND e.id = c.episode_id AND e.ended_at IS NULL AND e.ends_at > c.window_opens_at
            """,
            parameters,
        )
        revived = cursor.rowcount
        cursor.execute(
            """
            UPDATE care_caretask AS t SET state = %(due)s, cancel_reason = '',
                                          state_changed_at = %(now)s
            FROM residents_resident AS r, care_careitem AS i, care_serviceplan AS p
            WHERE t.facility_id = ANY(%(facilities)s::bigint[])
              AND t.window_opens_at > %(now)s AND t.window_opens_at < %(until)s
              AND t.state = 'cancelled' AND t.cancel_reason IN ('loa', 'hospital')
              AND r.id = t.resident_id AND r.status = 'active'
              AND i.id = t.item_id AND p.id = i.plan_id AND p.status = 'active'
            """,
            parameters,
        )
        return revived + cursor.rowcount


def _insert(items: list[int], shift_indexes: list[int], shifts: list[Shift], *, now) -> int:
    """One INSERT whatever the count: each task as (item, index into `shifts`), two integer
    arrays; the shifts (a few per facility) as arrays of their own, joined by position. The
    facility and resident come from the item's plan, still active, of a resident still present
    (read again after _lock_residents). A task another run made meanwhile is skipped by the
    unique key."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO care_caretask (item_id, facility_id, resident_id, shift_day, shift_name,
                                       window_opens_at, window_closes_at, state, cancel_reason,
                                       created_at)
            SELECT t.item, p.facility_id, p.resident_id, s.day, s.name, s.opens, s.closes,
                   %(due)s, '', %(now)s
            FROM unnest(%(items)s::bigint[], %(indexes)s::int[]) AS t(item, shift)
            JOIN unnest(%(days)s::date[], %(names)s::text[], %(opens)s::timestamptz[],
                        %(closes)s::timestamptz[]) WITH ORDINALITY
                 AS s(day, name, opens, closes, position) ON s.position = t.shift + 1
            JOIN care_careitem AS i ON i.id = t.item
            JOIN care_serviceplan AS p ON p.id = i.plan_id
            JOIN residents_resident AS r ON r.id = p.resident_id
            WHERE p.status = 'active' AND r.status = 'active'
            ON CONFLICT (item_id, shift_day, shift_name) DO NOTHING
            """,
            {"items": items, "indexes": shift_indexes, **_shift_arrays(shifts, now)},
        )
        return cursor.rowcount


def _shift_arrays(shifts: list[Shift], now) -> dict:
    return {
        "days": [shift.day for shift in shifts],
        "names": [shift.name for shift in shifts],
        "opens": [shift.starts_at for shift in shifts],
        "closes": [shift.ends_at for shift in shifts],
        "due": TaskState.DUE,
        "now": now,
    }


def _insert_checks(
    episodes: list[int], shift_indexes: list[int], shifts: list[Shift], *, now
) -> int:
    """The monitoring checks as _insert makes tasks: one INSERT, the episode still running (not
    ended by a nurse meanwhile), its resident still present (read after _lock_residents)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO care_monitoringcheck (episode_id, facility_id, resident_id, shift_day,
                                              shift_name, window_opens_at, window_closes_at,
                                              state, cancel_reason, created_at, note)
            SELECT t.episode, e.facility_id, e.resident_id, s.day, s.name, s.opens, s.closes,
                   %(due)s, '', %(now)s, ''
            FROM unnest(%(episodes)s::bigint[], %(indexes)s::int[]) AS t(episode, shift)
            JOIN unnest(%(days)s::date[], %(names)s::text[], %(opens)s::timestamptz[],
                        %(closes)s::timestamptz[]) WITH ORDINALITY
                 AS s(day, name, opens, closes, position) ON s.position = t.shift + 1
            JOIN care_monitoringepisode AS e ON e.id = t.episode
            JOIN residents_resident AS r ON r.id = e.resident_id
            WHERE e.ended_at IS NULL AND r.status = 'active'
            ON CONFLICT (episode_id, shift_day, shift_name) DO NOTHING
            """,
            {"episodes": episodes, "indexes": shift_indexes, **_shift_arrays(shifts, now)},
        )
        return cursor.rowcount


@automatic_work("care task sweep")
def care_tasks_mark(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Move open care tasks and monitoring checks by the clock: `due` within the last hour of
    its shift -> `overdue`; `due`/`overdue` after its shift ended -> `missed`, and one alert per
    missed task or check (sent to the apps above as `care_tasks_missed` and
    `monitoring_checks_missed`). After an outage one run leaves every task in its
    right state."""
    now = now or timezone.now()
    if facility_ids is None:
        facility_ids = list(Facility.objects.values_list("pk", flat=True))
    facility_ids = list(facility_ids)
    counts = {"missed": 0, "overdue": 0, "checks_missed": 0, "checks_overdue": 0}
    soon = now + rules.OVERDUE_BEFORE_SHIFT_END
    with transaction.atomic(), connection.cursor() as cursor:
        for table, prefix, signal in (
            ("care_caretask", "", care_tasks_missed),
            ("care_monitoringcheck", "checks_", monitoring_checks_missed),
        ):
            # The state list is spelled out so that the planner uses the partial index.
            missed = _move(
                cursor, table, facility_ids, "'due', 'overdue'", now, TaskState.MISSED, now
            )
            counts[f"{prefix}missed"] = len(missed)
            overdue = _move(cursor, table, facility_ids, "'due'", soon, TaskState.OVERDUE, now)
            counts[f"{prefix}overdue"] = len(overdue)
            by_facility: dict[int, list[tuple[int, int]]] = {}
            for task_id, facility_id, resident_id in missed:
                by_facility.setdefault(facility_id, []).append((task_id, resident_id))
            for facility_id, tasks in by_facility.items():
                signal.send(sender=CareTask, facility_id=facility_id, tasks=tasks, at=now)
    return counts


def _move(
    cursor, table: str, facility_ids, states: str, closed_by, to_state: str, now
) -> list[tuple]:
    """Lock the open tasks (or checks: `table`) in `states` whose shift ends by `closed_by`
    (SKIP LOCKED: one being documented right now stays with its documenter), then move them:
    two statements, so that the plan of the second is an index lookup by id whatever the
    table's statistics say (one statement's planner guessed the whole history open and scanned
    it). The state list is spelled out so that the planner matches the partial index; each
    facility is its own index range (LATERAL), whatever the number of facilities."""
    cursor.execute(
        f"""
        SELECT t.id FROM unnest(%s::bigint[]) AS f(id)
        CROSS JOIN LATERAL (
            SELECT id FROM {table}
            WHERE facility_id = f.id AND state IN ({states}) AND window_closes_at <= %s
            FOR UPDATE SKIP LOCKED
        ) AS t
        """,
        [facility_ids, closed_by],
    )
    locked = [row[0] for row in cursor.fetchall()]
    if not locked:
        return []
    cursor.execute(
        f"UPDATE {table} SET state = %s, state_changed_at = %s "
        "WHERE id = ANY(%s::bigint[]) RETURNING id, facility_id, resident_id",
        [to_state, now, locked],
    )
    return cursor.fetchall()


def care_tasks_cancel_open(
    *,
    reason: str,
    item_ids: Sequence[int] | None = None,
    resident_id: int | None = None,
    opening_after: datetime.datetime | None = None,
    closing_after: datetime.datetime | None = None,
) -> int:
    """Cancel undocumented tasks (of these items, or of this resident, with the resident's
    monitoring checks) whose shift starts after `opening_after` or ends after `closing_after`.
    The caller holds the transaction."""
    tasks = CareTask.objects.filter(state__in=[*TASK_OPEN_STATES, TaskState.MISSED])
    if resident_id is not None and item_ids is None:
        checks = MonitoringCheck.objects.filter(
            resident_id=resident_id, state__in=[*TASK_OPEN_STATES, TaskState.MISSED]
        )
        if opening_after is not None:
            checks = checks.filter(window_opens_at__gt=opening_after)
        if closing_after is not None:
            checks = checks.filter(window_closes_at__gt=closing_after)
        checks.update(
            state=TaskState.CANCELLED, cancel_reason=reason, state_changed_at=timezone.now()
        )
    if item_ids is not None:
        tasks = tasks.filter(item_id__in=list(item_ids))
    if resident_id is not None:
        tasks = tasks.filter(resident_id=resident_id)
    if opening_after is not None:
        tasks = tasks.filter(window_opens_at__gt=opening_after)
    if closing_after is not None:
        tasks = tasks.filter(window_closes_at__gt=closing_after)
    return tasks.update(
        state=TaskState.CANCELLED, cancel_reason=reason, state_changed_at=timezone.now()
    )
