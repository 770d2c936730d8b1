"""The dose engine: scheduled doses made ahead, moved by the clock, cancelled by events.

Clock-driven work is rows with state: each run looks at what the rows say now, so running twice,
running two at once, or running after hours of downtime all end in the same place.
"""

import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Func, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import Facility
from core.audit import automatic_work
from core.queueing import send_after_commit
from core.schedule import first_day_read, occurrences, shared_start
from meds.models import OrderStatus, Prescription, build_dose_schedule
from residents.models import ResidentStatus

from ..models import (
    DOSE_ALERT_KINDS,
    DOSE_SUBJECT_PREFIX,
    OPEN_STATES,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    DoseState,
    ScheduledDose,
    dose_subject,
)

HORIZON = datetime.timedelta(hours=48)
# How far back a run fills in doses that were never made, while the generator has been running
# (its rows reach past this). Never before the order became active or the resident present.
LOOKBACK = datetime.timedelta(hours=6)
# After an outage longer than the horizon, a facility's doses end where its last run left them:
# the next run starts there, up to 7 days back, so the gap's doses exist and go missed (with
# one alert each) instead of leaving a silent hole.
CATCH_UP = datetime.timedelta(days=7)
# Who the audit trail names for these writes when no person made them.
DOSE_ENGINE = "dose engine"


@automatic_work(DOSE_ENGINE)
def doses_generate(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> int:
    """Materialize ScheduledDose rows for the next 48 hours; return how many were added.

    For every active, verified, scheduled order of every present resident (of these
    facilities: all by default). Relies on the unique constraint (prescription, due_at): two
    runs at once add no duplicate and raise no error.
    Doses cancelled by a hold or an absence that has since ended come back (revived) when they
    are still in the future.

    Set-based, so that thousands of orders cost little: the orders are read as plain values,
    orders whose schedules read alike share one expansion, the rows already made are compared
    as integers, and the missing ones go in as one INSERT ... SELECT of arrays (no model
    instance per row). A run with nothing to add writes nothing.
    """
    now = now or timezone.now()
    horizon_end = now + HORIZON
    orders = _eligible_orders(now)
    facilities = Facility.objects.only("id", "timezone")
    if facility_ids is not None:
        # The residents' facility too (an order's resident is in its facility): the planner then
        # reads these facilities' residents instead of hashing the whole fleet's.
        orders = orders.filter(facility_id__in=facility_ids, resident__facility_id__in=facility_ids)
        facilities = facilities.filter(pk__in=facility_ids)
    zones = {f.pk: f.tz for f in facilities}
    starts = _generation_starts(list(zones), now)
    eligible, wanted, earliest = _wanted_doses(
        orders, zones, starts, now=now, horizon_end=horizon_end
    )
    if not wanted:
        return 0
    existing = _existing_doses(list(zones), earliest, horizon_end)
    missing_orders: list[int] = []
    missing_dues: list[int] = []
    for order_id, dues in wanted.items():
        have = existing.get(order_id)
        for due in dues - have if have else dues:
            missing_orders.append(order_id)
            missing_dues.append(due)
    with transaction.atomic():
        _lock_residents(list(zones), missing_orders, eligible, now=now, horizon_end=horizon_end)
        added = _insert_doses(missing_orders, missing_dues) if missing_orders else 0
        _revive_doses(list(zones), eligible, now=now, horizon_end=horizon_end)
    return added


def _lock_residents(
    facility_ids: list[int],
    missing_orders: list[int],
    order_ids: list[int],
    *,
    now: datetime.datetime,
    horizon_end: datetime.datetime,
) -> None:
    """Share-lock the residents this run is about to write doses for (the orders' with missing
    doses, and those with cancelled doses that could come back), in id order.

    The orders were read a moment ago. A hold, a stop or an absence locks the resident's row
    before it cancels doses (meds.services._lock, resident_change_status): one in progress is
    waited for here, and one that has committed is seen by the statements that follow, which
    read the order's and the resident's status again. Without this, doses made from the earlier
    read would land, due, after the change had cancelled the open ones.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.id FROM residents_resident AS r
            WHERE r.id IN (
                SELECT p.resident_id FROM meds_prescription AS p
                WHERE p.id = ANY(%(missing)s::bigint[])
                UNION
                SELECT d.resident_id FROM mar_scheduleddose AS d
                WHERE d.facility_id = ANY(%(facilities)s) AND d.due_at > %(now)s
                  AND d.due_at < %(end)s AND d.state = %(cancelled)s
                  AND d.cancel_reason <> 'discontinued'
                  AND d.prescription_id = ANY(%(orders)s::bigint[])
            )
            ORDER BY r.id
            FOR SHARE
            """,
            {
                "missing": sorted(set(missing_orders)),
                "facilities": facility_ids,
                "now": now,
                "end": horizon_end,
                "cancelled": DoseState.CANCELLED,
                "orders": order_ids,
            },
        )


def _eligible_orders(now: datetime.datetime):
    """The orders that make doses: active, verified, scheduled, of a present resident."""
    return Prescription.objects.filter(
        status=OrderStatus.ACTIVE,
        is_prn=False,
        verified_at__isnull=False,
        resident__status=ResidentStatus.ACTIVE,
    ).filter(Q(stop_date__isnull=True) | Q(stop_date__gte=(now - CATCH_UP).date()))


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def _micros(instant: datetime.datetime) -> int:
    """An instant as whole microseconds since the epoch: exact, and cheap to hash and compare."""
    return (instant - _EPOCH) // _MICROSECOND


class _Micros(Func):
    """SQL: a timestamptz as whole microseconds since the epoch (the same integer as _micros)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def _wanted_doses(
    orders,
    zones: dict[int, zoneinfo.ZoneInfo],
    starts: dict[int, datetime.datetime],
    *,
    now: datetime.datetime,
    horizon_end: datetime.datetime,
) -> tuple[list[int], dict[int, frozenset[int]], datetime.datetime]:
    """The orders' ids; each order's dose instants from where its run starts to the horizon
    (as _micros, orders with none left out); and the earliest instant any order starts from.

    An order starts at the latest of its facility's start, the moment it became active (now,
    if it has no such moment) and the moment its resident became present. Orders whose
    schedules read alike from that point (same facility, times and recurrence; a start day
    that no longer matters: core.schedule.shared_start) share one expansion, so a facility
    of a thousand residents expands a few dozen schedules, not ten thousand.
    """
    rows = (
        orders.order_by()
        .annotate(
            since=_Micros(Greatest(Coalesce("active_since", Value(now)), "resident__present_since"))
        )
        .values_list(
            "id",
            "facility_id",
            "since",
            "times",
            "start_date",
            "stop_date",
            "recurrence",
            "weekdays",
            "every_n_days",
            "month_days",
        )
    )
    start_micros = {facility_id: _micros(start) for facility_id, start in starts.items()}
    first_days: dict[tuple[int, int], datetime.date] = {}
    expansions: dict[tuple, frozenset[int]] = {}
    eligible: list[int] = []
    wanted: dict[int, frozenset[int]] = {}
    earliest = now - LOOKBACK
    for (
        order_id,
        facility_id,
        since,
        times,
        start_date,
        stop_date,
        recurrence,
        weekdays,
        every_n_days,
        month_days,
    ) in rows:
        eligible.append(order_id)
        since = max(start_micros[facility_id], since)
        first_day = first_days.get((facility_id, since))
        if first_day is None:
            since_at = _EPOCH + since * _MICROSECOND
            earliest = min(earliest, since_at)
            first_day = first_days[facility_id, since] = first_day_read(
                zones[facility_id], since_at
            )
        key = (
            facility_id,
            since,
            tuple(times),
            shared_start(start_date, every_n_days, first_day),
            stop_date,
            recurrence,
            tuple(weekdays),
            every_n_days,
            tuple(month_days),
        )
        dues = expansions.get(key)
        if dues is None:
            schedule = build_dose_schedule(
                times=times,
                start_date=key[3],
                stop_date=stop_date,
                recurrence=recurrence,
                weekdays=weekdays,
                every_n_days=every_n_days,
                month_days=month_days,
            )
            since_at = _EPOCH + since * _MICROSECOND
            dues = expansions[key] = frozenset(
                _micros(due_at)
                for due_at in occurrences(schedule, zones[facility_id], since_at, horizon_end)
            )
        if dues:
            wanted[order_id] = dues
    return eligible, wanted, earliest


# A verified dated hold (meds.DatedHold) covers the dose: it is made cancelled ("hold"), so the
# MAR reads HOLD, and it is never revived while the hold stands.
_DATED_HOLD = """
    SELECT FROM meds_datedhold AS dh
    WHERE dh.prescription_id = {order} AND dh.state = 'verified'
      AND dh.starts_at <= {due} AND {due} < dh.ends_at
"""

_INSERT_DOSES = """
    INSERT INTO mar_scheduleddose (facility_id, prescription_id, resident_id, due_at,
        window_opens_at, window_closes_at, state, cancel_reason, created_at, state_changed_at)
    SELECT p.facility_id, p.id, p.resident_id, w.due_at,
           w.due_at - make_interval(mins => p.window_minutes),
           w.due_at + make_interval(mins => p.window_minutes),
           CASE WHEN h.held THEN %(cancelled)s ELSE %(due)s END,
           CASE WHEN h.held THEN 'hold' ELSE '' END, %(created)s, NULL
    FROM (
        SELECT order_id, timestamptz 'epoch' + due * interval '1 microsecond' AS due_at
        FROM unnest(%(orders)s::bigint[], %(dues)s::bigint[]) AS w(order_id, due)
    ) AS w
    JOIN meds_prescription AS p ON p.id = w.order_id
    JOIN residents_resident AS r ON r.id = p.resident_id
    CROSS JOIN LATERAL (SELECT EXISTS ({held}) AS held) AS h
    WHERE p.status = %(active)s AND p.verified_at IS NOT NULL AND r.status = %(present)s
""".replace("{held}", _DATED_HOLD.format(order="p.id", due="w.due_at"))


def _insert_doses(order_ids: list[int], dues: list[int]) -> int:
    """Insert the doses (order id and due instant as _micros, pairwise); return how many rows
    went in. One statement whatever the count, and the count is exact.

    Every NOT NULL column of ScheduledDose is written here: resident, facility and window
    come from the order, the state is due, nothing is cancelled, created now.

    The rows were missing a moment ago, so they go in as a plain INSERT first (ON CONFLICT's
    speculative insertion costs a third more per row); when another run made some of them
    meanwhile, the unique key refuses, and the statement is repeated with ON CONFLICT DO
    NOTHING, which skips those.
    """
    params = {
        "due": DoseState.DUE,
        "cancelled": DoseState.CANCELLED,
        "active": OrderStatus.ACTIVE,
        "present": ResidentStatus.ACTIVE,
        "created": timezone.now(),
        "orders": order_ids,
        "dues": dues,
    }
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():  # a savepoint: the refused statement leaves nothing
                cursor.execute(_INSERT_DOSES, params)
        except IntegrityError:
            cursor.execute(
                _INSERT_DOSES + "ON CONFLICT (prescription_id, due_at) DO NOTHING", params
            )
        return cursor.rowcount


def _generation_starts(
    facility_ids: list[int], now: datetime.datetime
) -> dict[int, datetime.datetime]:
    """Where each facility's run starts: 6 hours back while its doses reach that far (the
    generator has been running), else where its last dose is, at most 7 days back.

    A facility with no dose at all starts 6 hours back: it has no past to catch up. One index
    lookup per facility (its latest due time), whatever the size of the table.
    """
    if not facility_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f.id, (SELECT max(d.due_at) FROM mar_scheduleddose d WHERE d.facility_id = f.id)
            FROM unnest(%s::bigint[]) AS f(id)
            """,
            [facility_ids],
        )
        latest = dict(cursor.fetchall())
    starts = {}
    for facility_id in facility_ids:
        last = latest.get(facility_id)
        if last is None or last >= now - LOOKBACK:
            starts[facility_id] = now - LOOKBACK
        else:
            starts[facility_id] = max(last, now - CATCH_UP)
    return starts


def _revive_doses(
    facility_ids: list[int],
    order_ids: list[int],
    *,
    now: datetime.datetime,
    horizon_end: datetime.datetime,
) -> int:
    """Doses of these orders cancelled by a hold or an absence that has ended come back while
    still ahead (a discontinued order's never do), when the order and its resident, read again
    now (after _lock_residents), still make doses.

    The window of the facilities' doses is read through the (facility, due_at) index, and the
    orders are one array: the plan stays the same whatever the table's statistics say.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE mar_scheduleddose
            SET state = %(due)s, cancel_reason = '', state_changed_at = %(now)s
            WHERE facility_id = ANY(%(facilities)s) AND due_at > %(now)s AND due_at < %(end)s
              AND state = %(cancelled)s AND cancel_reason <> 'discontinued'
              AND prescription_id = ANY(%(orders)s::bigint[])
              AND EXISTS (
                  SELECT FROM meds_prescription AS p
                  JOIN residents_resident AS r ON r.id = p.resident_id
                  WHERE p.id = mar_scheduleddose.prescription_id AND p.status = %(active)s
                    AND r.status = %(present)s
              )
              AND NOT EXISTS ("""
            + _DATED_HOLD.format(
                order="mar_scheduleddose.prescription_id", due="mar_scheduleddose.due_at"
            )
            + """)
            """,
            {
                "active": OrderStatus.ACTIVE,
                "present": ResidentStatus.ACTIVE,
                "due": DoseState.DUE,
                "cancelled": DoseState.CANCELLED,
                "now": now,
                "end": horizon_end,
                "facilities": facility_ids,
                "orders": order_ids,
            },
        )
        return cursor.rowcount


def _existing_doses(
    facility_ids: list[int], start: datetime.datetime, end: datetime.datetime
) -> dict[int, set[int]]:
    """Order id -> the due instants (as _micros) of its rows already in the window, any state."""
    existing: dict[int, set[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prescription_id, (EXTRACT(EPOCH FROM due_at) * 1000000)::bigint "
            "FROM mar_scheduleddose WHERE facility_id = ANY(%s) AND due_at >= %s AND due_at < %s",
            [facility_ids, start, end],
        )
        for order_id, due in cursor.fetchall():
            have = existing.get(order_id)
            if have is None:
                existing[order_id] = {due}
            else:
                have.add(due)
    return existing


@automatic_work(DOSE_ENGINE)
def doses_mark_overdue(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """Move open doses by the clock and raise one alert per dose (of these facilities: all by
    default).

    `due` past its window's close -> `overdue` (alert: overdue dose); `due`/`overdue` past the
    facility's missed-after hours -> `missed` (the dose's alert becomes "missed dose"). After a
    long outage one run leaves every dose in its right state with exactly one alert.

    A resident out at an appointment (appointments' state "out", its partial index) keeps their
    open doses where they are: the med pass asks for a reason (given before leaving, sent with
    the resident, not given) instead. Once they are back, the next run moves any dose still
    undocumented like any other, with its alert: nothing is dropped silently.
    """
    now = now or timezone.now()
    facilities = Facility.objects.order_by("pk")
    if facility_ids is not None:
        facilities = facilities.filter(pk__in=facility_ids)
    by_missed_hours: dict[int, list[int]] = defaultdict(list)
    for facility_id, hours in facilities.values_list("pk", "missed_after_hours"):
        by_missed_hours[hours].append(facility_id)
    counts = {"missed": 0, "overdue": 0}
    # Missed first: a dose long past goes straight to missed, with one alert.
    for hours, ids in by_missed_hours.items():
        counts["missed"] += _move_open_doses(
            facility_ids=ids,
            states=OPEN_STATES,
            closed_before=now - datetime.timedelta(hours=hours),
            to_state=DoseState.MISSED,
            now=now,
        )
    every_id = [facility_id for ids in by_missed_hours.values() for facility_id in ids]
    if every_id:
        counts["overdue"] += _move_open_doses(
            facility_ids=every_id,
            states=(DoseState.DUE,),
            closed_before=now,
            to_state=DoseState.OVERDUE,
            now=now,
        )
    return counts


_ALERT_FOR_STATE = {
    DoseState.OVERDUE: (AlertKind.OVERDUE_DOSE, AlertSeverity.WARNING, "Overdue"),
    DoseState.MISSED: (AlertKind.MISSED_DOSE, AlertSeverity.URGENT, "Missed"),
}

# The doses locked for the step, moved, with their alert's severity: a dose of a time-critical
# or high-alert medication (meds.Medication.ranks_first) is urgent as soon as it is overdue.
_MOVE = """
    moved AS (
        UPDATE mar_scheduleddose AS d SET state = %(to_state)s, state_changed_at = %(now)s
        FROM meds_prescription AS p JOIN meds_medication AS m ON m.id = p.medication_id
        WHERE d.id = ANY(%(locked)s::bigint[]) AND p.id = d.prescription_id
        RETURNING d.id, d.facility_id, d.resident_id, %(prefix)s || d.id AS subject,
                  CASE WHEN m.is_time_critical OR m.high_alert <> ''
                       THEN %(urgent)s ELSE %(severity)s END AS severity
    )
"""
_RAISE = """
    INSERT INTO mar_alert (facility_id, resident_id, dose_id, kind, subject, severity, message,
                           state, created_at, resolution_note, acknowledgement_note)
    SELECT facility_id, resident_id, id, %(kind)s, subject, severity, %(message)s, 'open',
           %(now)s, '', ''
    FROM moved
"""


@transaction.atomic
def _move_open_doses(
    *,
    facility_ids: list[int],
    states: tuple[str, ...],
    closed_before: datetime.datetime,
    to_state: str,
    now: datetime.datetime,
) -> int:
    """One sweep step in two statements, however many doses move (the sweep runs every minute).

    SKIP LOCKED: a concurrent sweep, or a med tech documenting the dose right now, keeps it.
    The partial index on open doses by (facility, state, window close) finds exactly the rows
    to move, at any table size. Then one statement moves them and raises (or turns) their
    alerts; the audit triggers record the changes once per statement.
    """
    kind, severity, word = _ALERT_FOR_STATE[to_state]
    with connection.cursor() as cursor:
        # The state list is spelled out so the planner matches the partial indexes. A window
        # opens before it closes (dose_window_around_due), so the condition on its opening
        # changes no answer; it bounds the other open-dose index (by facility and opening) too,
        # so that either plan reads only the rows to move: the planner judges the window
        # conditions by the whole table, whose closed history it cannot tell from open doses.
        in_states = ", ".join(f"'{DoseState(state).value}'" for state in states)
        # One index range per facility (LATERAL): given a thousand facilities at once, the
        # planner could not tell that open doses lie ahead of the history and scanned it all
        # (bench/fleet.py).
        cursor.execute(
            f"""
            SELECT d.id FROM unnest(%(facilities)s::bigint[]) AS f(id)
            CROSS JOIN LATERAL (
                SELECT id FROM mar_scheduleddose
                WHERE facility_id = f.id AND state IN ({in_states})
                  AND window_closes_at <= %(before)s AND window_opens_at <= %(before)s
                  AND NOT EXISTS (
                      SELECT FROM appointments_appointment AS a
                      WHERE a.resident_id = mar_scheduleddose.resident_id AND a.state = 'out'
                  )
                FOR UPDATE SKIP LOCKED
            ) AS d
            """,
            {"facilities": facility_ids, "before": closed_before},
        )
        locked = [row[0] for row in cursor.fetchall()]
        if not locked:
            return 0
        params = {
            "locked": locked,
            "to_state": to_state,
            "now": now,
            "prefix": DOSE_SUBJECT_PREFIX,
            "urgent": int(AlertSeverity.URGENT),
            "severity": int(severity),
            "kind": kind,
            "message": _dose_message(word),
        }
        if to_state == DoseState.MISSED:
            # The dose's overdue alert becomes its missed alert: one alert per dose, always. A
            # dose that never had one (it went from due to missed during an outage) gets one.
            cursor.execute(
                f"""
                WITH {_MOVE},
                turned AS (
                    UPDATE mar_alert SET kind = %(kind)s, severity = %(severity)s,
                                         message = %(message)s, state = 'open'
                    WHERE kind = %(overdue)s AND subject IN (SELECT subject FROM moved)
                    RETURNING subject
                ),
                raised AS (
                    {_RAISE}
                    WHERE subject NOT IN (SELECT subject FROM turned)
                    ON CONFLICT DO NOTHING
                )
                SELECT count(*) FROM moved
                """,
                {**params, "overdue": AlertKind.OVERDUE_DOSE},
            )
        else:
            cursor.execute(
                f"""
                WITH {_MOVE},
                raised AS ({_RAISE} ON CONFLICT DO NOTHING)
                SELECT count(*) FROM moved
                """,
                params,
            )
        return cursor.fetchone()[0]


def _dose_message(word: str) -> str:
    # The alert list shows resident, medication and time from the dose itself.
    return f"{word} dose: nothing documented"


def doses_cancel_open(*, filters: Q, reason: str, since: datetime.datetime, now) -> int:
    """Cancel undocumented doses due from `since` on, and resolve their dose alerts.

    The caller holds the transaction of the change that cancels them (a hold, an absence).
    """
    doses = ScheduledDose.objects.filter(
        filters, due_at__gte=since, state__in=(*OPEN_STATES, DoseState.MISSED)
    )
    ids = list(doses.select_for_update(of=("self",)).values_list("id", flat=True))
    if not ids:
        return 0
    ScheduledDose.objects.filter(id__in=ids).update(
        state=DoseState.CANCELLED, cancel_reason=reason, state_changed_at=now
    )
    Alert.objects.filter(
        kind__in=DOSE_ALERT_KINDS, subject__in=[dose_subject(i) for i in ids]
    ).exclude(state=AlertState.RESOLVED).update(
        state=AlertState.RESOLVED,
        resolved_at=now,
        resolution_note=f"Dose cancelled ({reason})",
    )
    return len(ids)


def generation_queue(facility_id: int) -> None:
    """After commit, ask a worker to fill in the facility's doses; once per transaction.

    Verifying, resuming or bringing a resident back need not wait for the next beat run.
    settings.DOSE_GENERATION_QUEUE names the function that sends the task (`mar.tasks`); the
    tests name one that only remembers the request (tests/seams.py: `queued_generations`).
    """
    send_after_commit("DOSE_GENERATION_QUEUE", facility_id)
