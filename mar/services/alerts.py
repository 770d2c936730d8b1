"""Alerts: what needs a person's attention, raised by sweeps and events, worked by nurses.

An alert is identified by (kind, subject); the subject names what it is about (see
`mar.models`: dose_subject, prn_subject, ...). Raising, resolving, cancelling and reopening
all find an alert by that key, so each dose, PRN dose, pattern or supply episode has one.
"""

import datetime
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from accounts.models import Facility, User
from care import rules as care_rules
from care.models import AdlCategory
from core.audit import automatic_work
from core.errors import DomainError
from core.time import local_stamp, local_time
from core.validators import check_inputs
from inventory.models import MovementKind, StockMovement
from inventory.selectors import movements_since_last_matching_count, reorder_list
from residents.models import Resident
from vitals.models import VITAL_UNITS, VitalSign

from .. import rules
from ..models import (
    REASSESSMENT_KINDS,
    WEIGHT_SUBJECT_PREFIX,
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    care_task_subject,
    certification_subject,
    count_subject,
    missed_rollup_subject,
    monitoring_check_subject,
    prn_subject,
    reassess_suggested_subject,
    reassessment_subject,
    refusal_subject,
    stock_subject,
    vital_exception_subject,
    weight_subject,
)


def alerts_resolve(
    *, kinds, subjects: list[str], by: User | None, at: datetime.datetime, note: str
) -> int:
    """Resolve the open or acknowledged alerts of these kinds about these subjects."""
    return (
        Alert.objects.filter(kind__in=kinds, subject__in=subjects)
        .exclude(state=AlertState.RESOLVED)
        .update(state=AlertState.RESOLVED, resolved_by=by, resolved_at=at, resolution_note=note)
    )


def alerts_reopen(*, kinds, subjects: list[str]) -> int:
    """Open again the alerts about these subjects (a record marked entered in error)."""
    return Alert.objects.filter(kind__in=kinds, subject__in=subjects).update(
        state=AlertState.OPEN, resolution_note=""
    )


def _acknowledge(*, actor: User, alerts, note: str, at: datetime.datetime) -> int:
    """Acknowledge these open alerts and, for a roll-up among them, the dose alerts it gathers.

    The caller holds the transaction and the chosen alerts' row locks."""
    chosen = list(alerts.values_list("pk", flat=True))
    return Alert.objects.filter(
        Q(pk__in=chosen) | Q(rolled_into__in=chosen), state=AlertState.OPEN
    ).update(
        state=AlertState.ACKNOWLEDGED,
        acknowledged_by=actor,
        acknowledged_at=at,
        acknowledgement_note=note,
    )


@transaction.atomic
def alert_acknowledge(
    *, actor: User, alert: Alert, note: str = "", now: datetime.datetime | None = None
) -> Alert:
    """Acknowledge one alert (a roll-up: with the missed doses it gathers)."""
    check_inputs(note=note)
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.OPEN:
        raise DomainError(f"This alert is already {locked.get_state_display().lower()}.")
    _acknowledge(
        actor=actor,
        alerts=Alert.objects.filter(pk=locked.pk),
        note=(note or "").strip(),
        at=now or timezone.now(),
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def alerts_acknowledge(*, actor: User, facility: Facility, alert_ids: list[int], note: str) -> int:
    """Acknowledge several alerts of the facility with one note; return how many were chosen.

    Refused, changing nothing, without a note (field "note") or when none of them is open
    any more. Each alert records the note, the acting user and the time (audited); a roll-up
    takes the missed doses it gathers with it.
    """
    check_inputs(note=note)
    note = (note or "").strip()
    if not note:
        raise DomainError(
            "Write one note for the alerts you acknowledge (what you did or will do).",
            field="note",
        )
    if not alert_ids:
        raise DomainError("Tick the alerts to acknowledge, or a whole group.", field="alerts")
    chosen = Alert.objects.select_for_update().filter(
        facility=facility, pk__in=alert_ids, state=AlertState.OPEN
    )
    count = len(chosen)  # evaluating the queryset takes the row locks
    if not count:
        raise DomainError("None of the chosen alerts is still open.", field="alerts")
    _acknowledge(actor=actor, alerts=chosen, note=note, at=timezone.now())
    return count


@transaction.atomic
def alert_resolve(
    *, actor: User, alert: Alert, note: str, now: datetime.datetime | None = None
) -> Alert:
    """Resolve one alert (a roll-up: with the missed doses it gathers)."""
    check_inputs(note=note)
    note = (note or "").strip()
    if not note:
        raise DomainError("Write what was done about it.", field="note")
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state == AlertState.RESOLVED:
        raise DomainError("This alert is already resolved.")
    now = now or timezone.now()
    Alert.objects.filter(Q(pk=locked.pk) | Q(rolled_into=locked.pk)).exclude(
        state=AlertState.RESOLVED
    ).update(state=AlertState.RESOLVED, resolved_by=actor, resolved_at=now, resolution_note=note)
    locked.refresh_from_db()
    return locked


def alerts_roll_up_missed(*, now: datetime.datetime | None = None) -> int:
    """Gather each resident's missed-dose alerts older than the facility's review period into one
    "unreviewed missed doses" alert; return how many dose alerts were gathered.

    A dose alert gathered leaves the inbox's list (it is found from the roll-up); a later one
    joins the resident's open roll-up; once that is acknowledged or resolved, the next starts a
    new one. Idempotent: a second run finds nothing left to gather. Set-based: a few statements
    per facility, whatever the number of alerts.
    """
    now = now or timezone.now()
    gathered = 0
    for facility in Facility.objects.only("id", "timezone", "missed_dose_review_hours"):
        gathered += _roll_up_facility(facility=facility, now=now)
    return gathered


@transaction.atomic
def _roll_up_facility(*, facility: Facility, now: datetime.datetime) -> int:
    cutoff = now - datetime.timedelta(hours=facility.missed_dose_review_hours)
    candidates = list(
        Alert.objects.select_for_update(skip_locked=True)
        .filter(
            facility=facility,
            kind=AlertKind.MISSED_DOSE,
            state=AlertState.OPEN,
            rolled_into__isnull=True,
            resident__isnull=False,
            created_at__lte=cutoff,
        )
        .values_list("pk", "resident_id")
    )
    if not candidates:
        return 0
    by_resident: dict[int, list[int]] = {}
    for pk, resident_id in candidates:
        by_resident.setdefault(resident_id, []).append(pk)
    open_rollups = Alert.objects.select_for_update().filter(
        facility=facility,
        kind=AlertKind.MISSED_ROLLUP,
        state=AlertState.OPEN,
        resident_id__in=list(by_resident),
    )
    rollup_of = {r.resident_id: r.pk for r in open_rollups.order_by("-pk")}
    fresh = [
        missed_rollup_subject(resident_id, min(ids))
        for resident_id, ids in by_resident.items()
        if resident_id not in rollup_of
    ]
    Alert.objects.bulk_create(
        [
            Alert(
                facility=facility,
                resident_id=resident_id,
                kind=AlertKind.MISSED_ROLLUP,
                subject=missed_rollup_subject(resident_id, min(ids)),
                severity=AlertSeverity.WARNING,
                message="Unreviewed missed doses",
                created_at=now,
            )
            for resident_id, ids in by_resident.items()
            if resident_id not in rollup_of
        ],
        ignore_conflicts=True,
    )
    rollup_of.update(
        Alert.objects.filter(kind=AlertKind.MISSED_ROLLUP, subject__in=fresh).values_list(
            "resident_id", "pk"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE mar_alert AS a SET rolled_into_id = r.rollup
            FROM unnest(%s::bigint[], %s::bigint[]) AS r(id, rollup)
            WHERE a.id = r.id
            """,
            [
                [pk for pk, _ in candidates],
                [rollup_of[resident_id] for _, resident_id in candidates],
            ],
        )
    _describe_rollups(facility=facility, rollup_ids=list(set(rollup_of.values())))
    return len(candidates)


def _describe_rollups(*, facility: Facility, rollup_ids: list[int]) -> None:
    """Write each roll-up's message from the doses it gathers: how many, oldest and newest."""
    summary = (
        Alert.objects.filter(rolled_into__in=rollup_ids)
        .exclude(state=AlertState.RESOLVED)
        .values("rolled_into")
        .annotate(n=Count("pk"), oldest=Min("dose__due_at"), newest=Max("dose__due_at"))
    )
    rollups = []
    for row in summary:
        oldest = local_stamp(row["oldest"], facility.tz)
        newest = local_stamp(row["newest"], facility.tz)
        if row["n"] == 1:
            message = f"1 missed dose not reviewed, due {oldest}."
        else:
            message = f"{row['n']} missed doses not reviewed, due from {oldest} to {newest}."
        rollups.append(Alert(pk=row["rolled_into"], message=message))
    Alert.objects.bulk_update(rollups, ["message"])


def alert_raise_certification(*, facility: Facility, user: User, now: datetime.datetime) -> None:
    """Tell the administrators, once a day per person, outside the refused transaction."""
    day = now.astimezone(facility.tz).date()
    Alert.objects.bulk_create(
        [
            Alert(
                facility=facility,
                kind=AlertKind.CERTIFICATION,
                subject=certification_subject(user.pk, day),
                severity=AlertSeverity.URGENT,
                message=(
                    f"{user} tried to record a medication without a current medication aide "
                    "certification."
                ),
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )


@automatic_work("alert sweep")
def alerts_raise_followups(
    *, now: datetime.datetime | None = None, facility_ids: Sequence[int] | None = None
) -> dict[str, int]:
    """PRN follow-ups not documented in time, refusal patterns (3 in 7 days per order), low
    supply, and missed doses past the review period gathered per resident (`missed_rollup`:
    how many dose alerts were gathered); of these facilities (all by default)."""
    now = now or timezone.now()
    counts = {"prn_followup": 0, "refusals": 0, "low_supply": 0, "missed_rollup": 0}
    facilities = Facility.objects.only(
        "id", "prn_followup_minutes", "timezone", "missed_dose_review_hours"
    )
    if facility_ids is not None:
        facilities = facilities.filter(pk__in=facility_ids)
    for facility in facilities:
        due_before = now - datetime.timedelta(minutes=facility.prn_followup_minutes)
        late = list(
            Administration.objects.filter(
                facility=facility,
                dose__isnull=True,
                status=AdminStatus.GIVEN,
                voided=False,
                followup__isnull=True,
                administered_at__lte=due_before,
                administered_at__gte=now - datetime.timedelta(days=2),
            ).select_related("prescription__medication")
        )
        counts["prn_followup"] += alerts_create(
            [
                Alert(
                    facility=facility,
                    resident_id=a.resident_id,
                    kind=AlertKind.PRN_FOLLOWUP,
                    subject=prn_subject(a.pk),
                    severity=AlertSeverity.WARNING,
                    message=(
                        f"PRN {a.prescription.medication.name} given at "
                        f"{local_time(a.administered_at, facility.tz)}: "
                        "effectiveness not documented."
                    ),
                    created_at=now,
                )
                for a in late
            ]
        )
        counts["refusals"] += _raise_refusal_alerts(facility=facility, now=now)
        counts["low_supply"] += _raise_low_supply_alerts(facility=facility, now=now)
        counts["missed_rollup"] += _roll_up_facility(facility=facility, now=now)
    return counts


def _raise_low_supply_alerts(*, facility: Facility, now: datetime.datetime) -> int:
    """Once per supply episode: the key changes when the item is next received."""
    low = [s for s in reorder_list(facility=facility, now=now) if s.item.ordered_at is None]
    if not low:
        return 0
    last_received = dict(
        StockMovement.objects.filter(item__in=[s.item.pk for s in low], kind=MovementKind.RECEIVED)
        .values_list("item_id")
        .annotate(last=Max("id"))
    )
    return alerts_create(
        [
            Alert(
                facility=facility,
                resident_id=supply.item.resident_id,
                kind=AlertKind.LOW_SUPPLY,
                subject=stock_subject(supply.item.pk, last_received.get(supply.item.pk, 0)),
                severity=AlertSeverity.INFO,
                message=(
                    f"{supply.item}: {supply.days_left} days of supply left "
                    f"({supply.item.on_hand.normalize():f} {supply.item.unit_of_count}). Reorder."
                ),
                created_at=now,
            )
            for supply in low
        ]
    )


def _raise_refusal_alerts(*, facility: Facility, now: datetime.datetime) -> int:
    week_ago = now - rules.REFUSAL_WINDOW
    refusals: dict[int, list[Administration]] = {}
    for administration in (
        Administration.objects.filter(
            facility=facility,
            status=AdminStatus.REFUSED,
            voided=False,
            administered_at__gte=week_ago,
        )
        .select_related("prescription__medication")
        .order_by("administered_at")
    ):
        refusals.setdefault(administration.prescription_id, []).append(administration)
    alerts = []
    for order_id, rows in refusals.items():
        completed = rules.refusal_pattern_completed_at([r.administered_at for r in rows])
        if completed is None:
            continue
        third = rows[completed]
        alerts.append(
            Alert(
                facility=facility,
                resident_id=third.resident_id,
                kind=AlertKind.REFUSALS,
                # One alert per pattern: keyed by the refusal that completed it.
                subject=refusal_subject(order_id, third.pk),
                severity=AlertSeverity.URGENT,
                message=(
                    f"{third.prescription.medication.name} refused {len(rows)} times in 7 days: "
                    "notify the prescriber within 24 hours."
                ),
                created_at=now,
            )
        )
    return alerts_create(alerts)


def alerts_create(alerts: list[Alert]) -> int:
    """Insert the alerts that do not exist yet (one per kind and subject); return how many.
    The apps above raise theirs here too (clinical's changes of condition).

    The unique constraint stays the guard against a concurrent run (ignore_conflicts); the
    pre-check only makes the count honest, since bulk_create cannot tell what it skipped.
    """
    if not alerts:
        return 0
    existing = set(
        Alert.objects.filter(
            kind__in={a.kind for a in alerts}, subject__in=[a.subject for a in alerts]
        ).values_list("kind", "subject")
    )
    fresh = [a for a in alerts if (a.kind, a.subject) not in existing]
    Alert.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def alert_raise_count_discrepancy(*, count, discrepancies) -> Alert:
    """A count that differs from the ledger: one urgent alert with the movements since the last
    count that matched, so a nurse can see who gave, wasted or received what, when."""
    tz = count.facility.tz
    parts = []
    for line in discrepancies:
        moved = movements_since_last_matching_count(item=line.item)
        history = "; ".join(
            f"{m.at.astimezone(tz):%m-%d %H:%M} {m.get_kind_display().lower()} "
            f"{m.quantity.normalize():+f} by {m.by.initials}"
            for m in moved[:8]
        )
        parts.append(
            f"{line.item}: ledger {line.expected.normalize():f}, counted "
            f"{line.counted.normalize():f}"
            + (f" [since last good count: {history}]" if history else "")
        )
    return Alert.objects.create(
        facility=count.facility,
        kind=AlertKind.COUNT_DISCREPANCY,
        subject=count_subject(count.pk),
        severity=AlertSeverity.URGENT,
        message=(f"Count discrepancy in {count.unit}: " + " | ".join(parts))[:2000],
        created_at=count.counted_at,
    )


# Care (the care app tells mar through its signals; see mar/receivers.py) ---------------------


def alerts_raise_missed_care(
    *, facility_id: int, tasks, at: datetime.datetime, monitoring: bool = False
) -> int:
    """One alert per care task (or monitoring check) the sweep turned missed, for the nurse of
    the shift: one statement for any number (a sweep after an outage moves thousands)."""
    if not tasks:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO mar_alert (facility_id, resident_id, kind, subject, severity, message,
                                   state, created_at, resolution_note, acknowledgement_note)
            SELECT %(facility)s, resident, %(kind)s, %(prefix)s || task, %(severity)s,
                   %(message)s, 'open', %(at)s, '', ''
            FROM unnest(%(tasks)s::bigint[], %(residents)s::bigint[]) AS t(task, resident)
            ON CONFLICT DO NOTHING
            """,
            {
                "facility": facility_id,
                "kind": AlertKind.MISSED_MONITORING if monitoring else AlertKind.MISSED_CARE,
                "prefix": (monitoring_check_subject if monitoring else care_task_subject)(
                    0
                ).removesuffix("0"),
                "severity": int(AlertSeverity.WARNING),
                "message": (
                    "Missed monitoring: no check documented before the shift ended"
                    if monitoring
                    else "Missed care: nothing documented before the shift ended"
                ),
                "at": at,
                "tasks": [task for task, _ in tasks],
                "residents": [resident for _, resident in tasks],
            },
        )
        return cursor.rowcount


def alert_raise_reassessment_due(*, resident, status_change_id: int, at) -> int:
    """Back from hospital: the resident is reassessed within 48 hours."""
    due = at + care_rules.REASSESS_AFTER_HOSPITAL
    return alerts_create(
        [
            Alert(
                facility_id=resident.facility_id,
                resident=resident,
                kind=AlertKind.REASSESSMENT_DUE,
                subject=reassessment_subject(resident.pk, status_change_id),
                severity=AlertSeverity.WARNING,
                message=(
                    f"{resident} is back from hospital: reassess by "
                    f"{local_stamp(due, resident.facility.tz)}."
                ),
                created_at=at,
            )
        ]
    )


def alert_raise_reassess_suggested(*, resident, category: str, at) -> int:
    words = AdlCategory(category).label.lower()
    return alerts_create(
        [
            Alert(
                facility_id=resident.facility_id,
                resident=resident,
                kind=AlertKind.REASSESS_SUGGESTED,
                subject=reassess_suggested_subject(
                    resident.pk, category, at.astimezone(resident.facility.tz).date()
                ),
                severity=AlertSeverity.INFO,
                message=(
                    f"{resident} needed more help with {words} than planned "
                    f"{care_rules.WORSE_THAN_PLANNED_TIMES} times in "
                    f"{care_rules.WORSE_THAN_PLANNED_DAYS} days: consider reassessment."
                ),
                created_at=at,
            )
        ]
    )


def alerts_settle_reassessment(*, resident_id: int, by, at) -> int:
    """A signed assessment settles the resident's open reassessment alerts."""
    return (
        Alert.objects.filter(resident_id=resident_id, kind__in=REASSESSMENT_KINDS)
        .exclude(state=AlertState.RESOLVED)
        .update(
            state=AlertState.RESOLVED,
            resolved_by=by,
            resolved_at=at,
            resolution_note="Reassessed",
        )
    )


# Vitals (the flowsheet tells mar through its signals; see mar/receivers.py) -------------------


def alerts_raise_vital_exceptions(*, exceptions, at: datetime.datetime) -> int:
    """One alert per reading out of range, for the nurses' inbox."""
    alerts = []
    for exception in exceptions:
        reading = exception.reading
        unit = VITAL_UNITS[VitalSign(reading.kind)]
        bounds = " to ".join(
            f"{bound.normalize():f}" if bound is not None else "…"
            for bound in (exception.low, exception.high)
        )
        whose = "their own range" if exception.resident_range else "range"
        alerts.append(
            Alert(
                facility_id=exception.facility_id,
                resident_id=exception.resident_id,
                kind=AlertKind.VITAL_EXCEPTION,
                subject=vital_exception_subject(exception.pk),
                severity=AlertSeverity.WARNING,
                message=(
                    f"{exception.resident}: {reading.get_kind_display()} "
                    f"{reading.value.normalize():f} {unit} ({whose} {bounds} {unit})"
                ),
                created_at=reading.taken_at,
            )
        )
    return alerts_create(alerts)


def alerts_settle_vital_exception(*, exception, acknowledgement) -> int:
    """The nurse acknowledged the reading on the flowsheet: its alert is done."""
    return alerts_resolve(
        kinds=[AlertKind.VITAL_EXCEPTION],
        subjects=[vital_exception_subject(exception.pk)],
        by=acknowledgement.by,
        at=acknowledgement.at,
        note=acknowledgement.note,
    )


def alert_raise_weight_loss(*, resident, reading, loss, at: datetime.datetime) -> int:
    """ "Re-weigh and review", one open per resident: while one is open or acknowledged a later
    loss adds none. The resident's row lock (no key update: it waits for no reading's foreign
    key check, and the med pass, which share-locks the resident, records no weight) orders two
    weights recorded at once."""
    Resident.objects.select_for_update(no_key=True).filter(pk=resident.pk).values_list("pk").first()
    if (
        Alert.objects.filter(
            resident_id=resident.pk,
            kind=AlertKind.WEIGHT_LOSS,
            subject__startswith=f"{WEIGHT_SUBJECT_PREFIX}{resident.pk}:",
        )
        .exclude(state=AlertState.RESOLVED)
        .exists()
    ):
        return 0
    return alerts_create(
        [
            Alert(
                facility_id=resident.facility_id,
                resident_id=resident.pk,
                kind=AlertKind.WEIGHT_LOSS,
                subject=weight_subject(resident.pk, reading.pk),
                severity=AlertSeverity.WARNING,
                message=(
                    f"{resident}: {loss.words(VITAL_UNITS[VitalSign.WEIGHT])} "
                    f"(since {local_stamp(loss.reference_at, resident.facility.tz)}). "
                    "Re-weigh and review."
                ),
                created_at=reading.taken_at,
            )
        ]
    )


def appointment_subject(appointment_id: int) -> str:
    """The "appointment outcome not recorded" alert's subject: one per appointment."""
    return f"appointment:{appointment_id}"


def alerts_raise_appointment_outcomes(*, facility_id: int, appointments, at) -> int:
    """One "appointment outcome not recorded" alert per appointment (appointments' sweep)."""
    alerts = []
    for appointment in appointments:
        back = local_stamp(appointment.expected_return_at, appointment.facility.tz)
        alerts.append(
            Alert(
                facility_id=facility_id,
                resident_id=appointment.resident_id,
                kind=AlertKind.APPOINTMENT_OUTCOME,
                subject=appointment_subject(appointment.pk),
                severity=AlertSeverity.WARNING,
                message=(
                    f"{appointment.resident}: {appointment} — outcome not recorded "
                    f"(expected back {back}). Record what the provider said and any orders."
                ),
                created_at=at,
            )
        )
    return alerts_create(alerts)


def alerts_settle_appointment(*, appointment, by, at) -> int:
    """The appointment's outcome alert is resolved by its outcome (or its cancelling)."""
    return alerts_resolve(
        kinds=[AlertKind.APPOINTMENT_OUTCOME],
        subjects=[appointment_subject(appointment.pk)],
        by=by,
        at=at,
        note=f"Appointment {appointment.get_state_display().lower()}",
    )
