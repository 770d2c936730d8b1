"""The dose engine: scheduled doses made ahead, moved by the clock, cancelled by events.

Clock-driven work is rows with state: each run looks at what the rows say now, so running twice,
running two at once, or running after hours of downtime all end in the same place.
"""

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Facility
from core.audit import automatic_work
from core.schedule import occurrences
from meds.models import SCHEDULE_FIELDS, OrderStatus, Prescription, build_dose_schedule
from residents.models import ResidentStatus

from ..models import (
    DOSE_ALERT_KINDS,
    OPEN_STATES,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    DoseState,
    ScheduledDose,
    dose_subject,
)

log = logging.getLogger(__name__)

HORIZON = datetime.timedelta(hours=48)
# How far back a run fills in doses that were never made, while the generator has been running
# (its rows reach past this). Never before the order became active or the resident present.
LOOKBACK = datetime.timedelta(hours=6)
# After an outage longer than the horizon, a facility's doses end where its last run left them:
# the next run starts there, up to 7 days back, so the gap's doses exist and go missed (with
# one alert each) instead of leaving a silent hole.
CATCH_UP = datetime.timedelta(days=7)
BATCH = 5000
# Who the audit trail names for these writes when no person made them.
DOSE_ENGINE = "dose engine"


@automatic_work(DOSE_ENGINE)
def doses_generate(
    *, now: datetime.datetime | None = None, facility: Facility | None = None
) -> int:
    """Materialize ScheduledDose rows for the next 48 hours; return how many were added.

    For every active, verified, scheduled order of every present resident. Relies on the unique
    constraint (prescription, due_at): two runs at once add no duplicate and raise no error.
    Doses cancelled by a hold or an absence that has since ended come back (revived) when they
    are still in the future. Orders are read as plain values and only missing rows become model
    instances: a run with nothing to add stays cheap at thousands of orders.
    """
    now = now or timezone.now()
    horizon_end = now + HORIZON
    orders = Prescription.objects.filter(
        status=OrderStatus.ACTIVE,
        is_prn=False,
        verified_at__isnull=False,
        resident__status=ResidentStatus.ACTIVE,
    ).filter(Q(stop_date__isnull=True) | Q(stop_date__gte=(now - CATCH_UP).date()))
    facilities = Facility.objects.only("id", "timezone")
    if facility is not None:
        orders = orders.filter(facility=facility)
        facilities = facilities.filter(pk=facility.pk)
    zones = {f.pk: f.tz for f in facilities}
    starts = _generation_starts(list(zones), now)
    columns = ("id", "resident_id", "facility_id", "window_minutes", "active_since")
    rows = orders.values_list(*columns, "resident__present_since", *SCHEDULE_FIELDS)

    wanted: list[tuple[int, int, int, int, datetime.datetime]] = []
    eligible_ids: list[int] = []
    earliest = now - LOOKBACK
    for (
        order_id,
        resident_id,
        facility_id,
        minutes,
        active_since,
        present_since,
        *sched,
    ) in rows.iterator(chunk_size=5000):
        eligible_ids.append(order_id)
        start = starts[facility_id]
        since = max(start, active_since or now, present_since or start)
        earliest = min(earliest, since)
        schedule = build_dose_schedule(**dict(zip(SCHEDULE_FIELDS, sched, strict=True)))
        for due_at in occurrences(schedule, zones[facility_id], since, horizon_end):
            wanted.append((order_id, resident_id, facility_id, minutes, due_at))
    if not wanted:
        return 0
    existing = _existing_keys(list(zones), earliest, horizon_end)
    missing = [
        ScheduledDose(
            facility_id=facility_id,
            prescription_id=order_id,
            resident_id=resident_id,
            due_at=due_at,
            window_opens_at=due_at - datetime.timedelta(minutes=minutes),
            window_closes_at=due_at + datetime.timedelta(minutes=minutes),
        )
        for order_id, resident_id, facility_id, minutes, due_at in wanted
        if (order_id, int(due_at.timestamp())) not in existing
    ]
    added = 0
    with transaction.atomic():
        if missing:
            created = ScheduledDose.objects.bulk_create(
                missing, batch_size=BATCH, ignore_conflicts=True
            )
            added = len(created)
        # Doses cancelled by a hold or an absence that has ended come back while still ahead.
        ScheduledDose.objects.filter(
            prescription_id__in=eligible_ids,
            state=DoseState.CANCELLED,
            due_at__gt=now,
            due_at__lt=horizon_end,
        ).exclude(cancel_reason="discontinued").update(
            state=DoseState.DUE, cancel_reason="", state_changed_at=now
        )
    return added


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


def _existing_keys(
    facility_ids: list[int], start: datetime.datetime, end: datetime.datetime
) -> set[tuple[int, int]]:
    """(prescription id, due_at as epoch seconds) of the rows already in the window.

    Epoch integers, not datetimes: tens of thousands of keys parse in milliseconds.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prescription_id, EXTRACT(EPOCH FROM due_at)::bigint FROM mar_scheduleddose "
            "WHERE facility_id = ANY(%s) AND due_at >= %s AND due_at < %s",
            [facility_ids, start, end],
        )
        return set(cursor.fetchall())


@automatic_work(DOSE_ENGINE)
def doses_mark_overdue(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Move open doses by the clock and raise one alert per dose.

    `due` past its window's close -> `overdue` (alert: overdue dose); `due`/`overdue` past the
    facility's missed-after hours -> `missed` (the dose's alert becomes "missed dose"). After a
    long outage one run leaves every dose in its right state with exactly one alert.
    """
    now = now or timezone.now()
    counts = {"missed": 0, "overdue": 0}
    for facility in Facility.objects.only("id", "missed_after_hours"):
        cutoff = now - datetime.timedelta(hours=facility.missed_after_hours)
        counts["missed"] += _move_open_doses(
            facility_id=facility.pk,
            states=OPEN_STATES,
            closed_before=cutoff,
            to_state=DoseState.MISSED,
            now=now,
        )
    counts["overdue"] += _move_open_doses(
        facility_id=None,
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


@transaction.atomic
def _move_open_doses(
    *,
    facility_id: int | None,
    states: tuple[str, ...],
    closed_before: datetime.datetime,
    to_state: str,
    now: datetime.datetime,
) -> int:
    """One sweep step in three set-based statements (the sweep runs every minute).

    SKIP LOCKED: a concurrent sweep, or a med tech documenting the dose right now, keeps it.
    The partial index on open doses makes finding them cheap at any table size. A dose of a
    time-critical or high-alert medication (meds.Medication.ranks_first) is urgent as soon as
    it is overdue: the drug, read in the same UPDATE, decides the alert's severity.
    """
    kind, severity, word = _ALERT_FOR_STATE[to_state]
    with connection.cursor() as cursor:
        # The state list is spelled out so the planner matches the partial index.
        in_states = ", ".join(f"'{DoseState(state).value}'" for state in states)
        by_facility = "AND facility_id = %(facility)s" if facility_id is not None else ""
        cursor.execute(
            f"""
            SELECT id FROM mar_scheduleddose
            WHERE state IN ({in_states}) AND window_closes_at <= %(before)s {by_facility}
            FOR UPDATE SKIP LOCKED
            """,
            {"before": closed_before, "facility": facility_id},
        )
        locked = [row[0] for row in cursor.fetchall()]
        if not locked:
            return 0
        cursor.execute(
            """
            UPDATE mar_scheduleddose AS d SET state = %s, state_changed_at = %s
            FROM meds_prescription AS p JOIN meds_medication AS m ON m.id = p.medication_id
            WHERE d.id = ANY(%s) AND p.id = d.prescription_id
            RETURNING d.id, d.facility_id, d.resident_id,
                      CASE WHEN m.is_time_critical OR m.high_alert <> '' THEN %s ELSE %s END
            """,
            [to_state, now, locked, int(AlertSeverity.URGENT), int(severity)],
        )
        moved = cursor.fetchall()
        if not moved:
            return 0
        dose_ids, facility_ids, resident_ids, severities = (
            list(column) for column in zip(*moved, strict=True)
        )
        if to_state == DoseState.MISSED:
            # The dose's overdue alert becomes its missed alert: one alert per dose, always.
            cursor.execute(
                """
                UPDATE mar_alert SET kind = %s, severity = %s, message = %s, state = 'open'
                WHERE kind = %s AND subject = ANY(%s)
                """,
                [
                    kind,
                    severity,
                    _dose_message(word),
                    AlertKind.OVERDUE_DOSE,
                    [dose_subject(pk) for pk in dose_ids],
                ],
            )
        cursor.execute(
            """
            INSERT INTO mar_alert (facility_id, resident_id, dose_id, kind, subject, severity,
                                   message, state, created_at, resolution_note,
                                   acknowledgement_note)
            SELECT facility_id, resident_id, dose_id, %s, subject, severity, %s, 'open', %s, '',
                   ''
            FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::smallint[])
                AS moved(dose_id, subject, facility_id, resident_id, severity)
            ON CONFLICT DO NOTHING
            """,
            [
                kind,
                _dose_message(word),
                now,
                dose_ids,
                [dose_subject(pk) for pk in dose_ids],
                facility_ids,
                resident_ids,
                severities,
            ],
        )
    return len(dose_ids)


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
    """
    pending = transaction.get_connection().run_on_commit
    if any(getattr(entry[1], "generation_facility", None) == facility_id for entry in pending):
        return  # e.g. a seed verifying hundreds of orders in one transaction

    def callback() -> None:
        _send_generation(facility_id)

    callback.generation_facility = facility_id
    transaction.on_commit(callback)


def _send_generation(facility_id: int) -> None:
    """Best effort: if the broker is down, the next beat run fills the doses in all the same.

    settings.DOSE_GENERATION_QUEUE names the function that sends the task (`mar.tasks`); the
    tests name one that only remembers the request (tests/conftest.py: `queued_generations`).
    """
    try:
        import_string(settings.DOSE_GENERATION_QUEUE)(facility_id)
    except Exception:  # the beat is the guarantee; this is only to be quick
        log.warning("Could not queue dose generation for facility %s", facility_id, exc_info=True)
