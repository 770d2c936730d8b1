"""The dose engine and the alerts it raises. Every write is a transactional function.

Clock-driven work is rows with state: each run looks at what the rows say now, so running twice,
running two at once, or running after hours of downtime all end in the same place.
"""

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Facility, Role, User
from accounts.selectors import medication_aide_current, membership_role
from accounts.services import staff_authenticate
from core.errors import DomainError
from core.schedule import occurrences
from inventory.models import MovementKind, StockMovement
from inventory.selectors import reorder_list
from inventory.services import stock_consume, stock_reverse_for_administration
from meds.models import (
    SCHEDULE_FIELDS,
    VITAL_UNITS,
    OrderStatus,
    Prescription,
    Route,
    VitalSign,
    build_dose_schedule,
)
from meds.signals import prescription_status_changed
from residents.models import ResidentStatus
from residents.signals import resident_status_changed

from .models import (
    OPEN_STATES,
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    Amendment,
    AmendmentKind,
    DoseState,
    FollowUpResult,
    OtherCode,
    PrnFollowUp,
    ScheduledDose,
    VitalReading,
)
from .selectors import prn_status

log = logging.getLogger(__name__)

HORIZON = datetime.timedelta(hours=48)
# How far back a run fills in doses that were never made (a generator down for longer than the
# horizon). Never before the order became active or the resident became present.
LOOKBACK = datetime.timedelta(hours=6)
BATCH = 5000


def _dose_subject(dose_id: int) -> str:
    return f"dose:{dose_id}"


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
    ).filter(Q(stop_date__isnull=True) | Q(stop_date__gte=(now - LOOKBACK).date()))
    facilities = Facility.objects.only("id", "timezone")
    if facility is not None:
        orders = orders.filter(facility=facility)
        facilities = facilities.filter(pk=facility.pk)
    zones = {f.pk: f.tz for f in facilities}
    columns = ("id", "resident_id", "facility_id", "window_minutes", "active_since")
    rows = orders.values_list(*columns, "resident__present_since", *SCHEDULE_FIELDS)

    wanted: list[tuple[int, int, int, int, datetime.datetime]] = []
    eligible_ids: list[int] = []
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
        since = max(now - LOOKBACK, active_since or now, present_since or now - LOOKBACK)
        schedule = build_dose_schedule(**dict(zip(SCHEDULE_FIELDS, sched, strict=True)))
        for due_at in occurrences(schedule, zones[facility_id], since, horizon_end):
            wanted.append((order_id, resident_id, facility_id, minutes, due_at))
    if not wanted:
        return 0
    existing = _existing_keys(list(zones), now - LOOKBACK, horizon_end)
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
    The partial index on open doses makes finding them cheap at any table size.
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
            UPDATE mar_scheduleddose SET state = %s, state_changed_at = %s
            WHERE id = ANY(%s)
            RETURNING id, facility_id, resident_id
            """,
            [to_state, now, locked],
        )
        moved = cursor.fetchall()
        if not moved:
            return 0
        dose_ids, facility_ids, resident_ids = (list(column) for column in zip(*moved, strict=True))
        if to_state == DoseState.MISSED:
            # The dose's overdue alert becomes its missed alert: one alert per dose, always.
            cursor.execute(
                """
                UPDATE mar_alert SET kind = %s, severity = %s, message = %s, state = 'open'
                WHERE kind = %s AND dose_id = ANY(%s)
                """,
                [kind, severity, _dose_message(word), AlertKind.OVERDUE_DOSE, dose_ids],
            )
        cursor.execute(
            """
            INSERT INTO mar_alert (facility_id, resident_id, dose_id, kind, subject, severity,
                                   message, state, created_at, resolution_note)
            SELECT facility_id, resident_id, dose_id, %s, 'dose:' || dose_id, %s, %s, 'open',
                   %s, ''
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])
                AS moved(dose_id, facility_id, resident_id)
            ON CONFLICT DO NOTHING
            """,
            [kind, severity, _dose_message(word), now, dose_ids, facility_ids, resident_ids],
        )
    return len(dose_ids)


def _dose_message(word: str) -> str:
    # The alert list shows resident, medication and time from the dose itself.
    return f"{word} dose: nothing documented"


def _cancel_open_doses(*, filters: Q, reason: str, since: datetime.datetime, now) -> int:
    """Cancel undocumented doses due from `since` on, and resolve their dose alerts."""
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
        subject__in=[_dose_subject(i) for i in ids],
        kind__in=(AlertKind.OVERDUE_DOSE, AlertKind.MISSED_DOSE),
    ).exclude(state=AlertState.RESOLVED).update(
        state=AlertState.RESOLVED,
        resolved_at=now,
        resolution_note=f"Dose cancelled ({reason})",
    )
    return len(ids)


@receiver(prescription_status_changed, dispatch_uid="mar.cancel_doses_of_order")
def _on_prescription_status_changed(*, prescription, to_status, at, **kwargs) -> None:
    """Runs inside the order's transaction: hold and discontinue cancel its future doses."""
    reasons = {OrderStatus.ON_HOLD: "hold", OrderStatus.DISCONTINUED: "discontinued"}
    if to_status in reasons:
        _cancel_open_doses(
            filters=Q(prescription_id=prescription.pk), reason=reasons[to_status], since=at, now=at
        )
    elif to_status == OrderStatus.ACTIVE:
        _queue_generation(prescription.facility_id)


@receiver(resident_status_changed, dispatch_uid="mar.cancel_doses_of_resident")
def _on_resident_status_changed(*, resident, to_status, effective_at, **kwargs) -> None:
    """Runs inside the status change's transaction: absence cancels doses from its start."""
    if to_status == ResidentStatus.ACTIVE:
        _queue_generation(resident.facility_id)
        return
    _cancel_open_doses(
        filters=Q(resident_id=resident.pk),
        reason=str(to_status),
        since=effective_at,
        now=timezone.now(),
    )


def _queue_generation(facility_id: int) -> None:
    """After commit, ask a worker to fill in the facility's doses; once per transaction."""
    pending = transaction.get_connection().run_on_commit
    if any(getattr(entry[1], "generation_facility", None) == facility_id for entry in pending):
        return  # e.g. a seed verifying hundreds of orders in one transaction

    def callback() -> None:
        _generate_for_facility_soon(facility_id)

    callback.generation_facility = facility_id
    transaction.on_commit(callback)


def _generate_for_facility_soon(facility_id: int) -> None:
    """Fill in doses right after a verify, resume or return instead of waiting for the beat.

    Best effort: if the broker is down, the next beat run fills them in all the same.
    """
    try:
        from .tasks import generate_due_doses

        generate_due_doses.delay(facility_id=facility_id)
    except Exception:  # the beat is the guarantee; this is only to be quick
        log.warning("Could not queue dose generation for facility %s", facility_id, exc_info=True)


# Alerts ---------------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: Alert) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state != AlertState.OPEN:
        raise DomainError(f"This alert is already {locked.get_state_display().lower()}.")
    locked.state = AlertState.ACKNOWLEDGED
    locked.acknowledged_by = actor
    locked.acknowledged_at = timezone.now()
    locked.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
    return locked


@transaction.atomic
def alert_resolve(*, actor: User, alert: Alert, note: str) -> Alert:
    note = (note or "").strip()
    if not note:
        raise DomainError("Write what was done about it.", field="note")
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.state == AlertState.RESOLVED:
        raise DomainError("This alert is already resolved.")
    locked.state = AlertState.RESOLVED
    locked.resolved_by = actor
    locked.resolved_at = timezone.now()
    locked.resolution_note = note
    locked.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    return locked


# Recording administrations ---------------------------------------------------------------------


class AlreadyDocumented(DomainError):
    """Someone documented this dose first; the message names who and when."""


@dataclass(frozen=True)
class RecordResult:
    administration: Administration
    # False when the same form (idempotency key) had already been recorded: nothing new was made.
    created: bool = True
    # Set when "given" was refused because a hold parameter triggered; the dose is recorded held.
    hold_message: str = ""


def _local(facility: Facility, moment: datetime.datetime) -> str:
    return moment.astimezone(facility.tz).strftime("%H:%M")


def _local_day_time(facility: Facility, moment: datetime.datetime) -> str:
    return moment.astimezone(facility.tz).strftime("%a %d %b %H:%M")


def _raise_certification_alert(*, facility: Facility, user: User, now: datetime.datetime) -> None:
    """Tell the administrators, once a day per person, outside the refused transaction."""
    day = now.astimezone(facility.tz).date()
    Alert.objects.bulk_create(
        [
            Alert(
                facility=facility,
                kind=AlertKind.CERTIFICATION,
                subject=f"aide-cert:{user.pk}:{day.isoformat()}",
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


def _check_may_give(
    *, actor: User, facility: Facility, order: Prescription, now: datetime.datetime
) -> str:
    """Role, certification and scope rules; returns the actor's role."""
    role = membership_role(user=actor, facility_id=facility.pk)
    if role is None:
        raise DomainError("You are not a member of this facility.")
    if role == Role.MED_TECH:
        today = now.astimezone(facility.tz).date()
        if not medication_aide_current(user=actor, today=today):
            raise CertificationRequired(
                "Your medication aide certification is expired or missing, so you cannot record "
                "medications. Ask a nurse to give this dose; your administrator has been told."
            )
        medication = order.medication
        if medication.controlled_schedule == "II" and not facility.medtechs_may_give_schedule_ii:
            raise DomainError(
                f"{medication.name} is schedule II: facility policy says a nurse gives it."
            )
        if order.route in Route.injections() and not facility.medtechs_may_give_injections:
            raise DomainError("Injections are given by a nurse here (facility policy).")
    return role


class CertificationRequired(DomainError):
    """The med tech's medication aide certification is not current."""


def _parse_vitals(vitals: dict | None) -> dict[str, Decimal]:
    readings = {}
    for kind, raw in (vitals or {}).items():
        if raw in (None, ""):
            continue
        if kind not in VitalSign.values:
            raise DomainError(f"Unknown vital sign {kind}.")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise DomainError(
                f"{VitalSign(kind).label}: “{raw}” is not a number.", field=f"vital_{kind}"
            ) from None
        if not Decimal("0") < value < Decimal("1000"):
            raise DomainError(f"{VitalSign(kind).label}: {raw} is out of range.", field=kind)
        readings[kind] = value
    return readings


def _apply_hold_parameters(
    *, order: Prescription, readings: dict[str, Decimal], status: str
) -> tuple[str, str]:
    """Vitals are required for an order with hold parameters; a triggered one turns "given" into
    "held". Returns (status, what triggered)."""
    rules = list(order.hold_parameters.all())
    if not rules or status != AdminStatus.GIVEN:
        return status, ""
    missing = sorted({VitalSign(r.vital).label for r in rules if r.vital not in readings})
    if missing:
        raise DomainError(
            f"Take and enter {', '.join(missing)} before giving: this order has hold parameters.",
            field="vitals",
        )
    for rule in rules:
        reading = readings[rule.vital]
        if rule.triggers_on(reading):
            unit = VITAL_UNITS[VitalSign(rule.vital)]
            return AdminStatus.HELD, f"{rule} — reading {reading.normalize():f} {unit}"
    return status, ""


def _witness_for(
    *,
    facility: Facility,
    order: Prescription,
    actor: User,
    status: str,
    username: str,
    secret: str,
) -> User | None:
    if not (order.medication.is_controlled and status == AdminStatus.GIVEN):
        return None
    if not facility.controlled_requires_witness and not username:
        return None
    witness = staff_authenticate(
        facility=facility, username=username, secret=secret, field="witness"
    )
    if witness.pk == actor.pk:
        raise DomainError("The witness must be another staff member.", field="witness")
    return witness


def _save_administration(
    *,
    actor: User,
    order: Prescription,
    dose: ScheduledDose | None,
    status: str,
    now: datetime.datetime,
    key,
    readings: dict[str, Decimal],
    **fields,
) -> Administration:
    administration = Administration.objects.create(
        facility_id=order.facility_id,
        resident_id=order.resident_id,
        prescription=order,
        dose=dose,
        status=status,
        administered_at=now,
        recorded_at=now,
        recorded_by=actor,
        dose_given=order.dose_text if status == AdminStatus.GIVEN else "",
        vitals={kind: f"{value.normalize():f}" for kind, value in readings.items()},
        idempotency_key=key,
        **fields,
    )
    VitalReading.objects.bulk_create(
        VitalReading(
            resident_id=order.resident_id,
            kind=kind,
            value=value,
            taken_at=now,
            taken_by=actor,
            administration=administration,
        )
        for kind, value in readings.items()
    )
    return administration


def _by_key(key) -> Administration | None:
    return Administration.objects.filter(idempotency_key=key).first()


def administration_record(
    *,
    actor: User,
    dose: ScheduledDose,
    status: str,
    idempotency_key,
    reason: str = "",
    late_reason: str = "",
    early_reason: str = "",
    other_code: str = "",
    vitals: dict | None = None,
    witness_username: str = "",
    witness_secret: str = "",
    notes: str = "",
    now: datetime.datetime | None = None,
) -> RecordResult:
    """Record what happened to a scheduled dose. Exactly one standing record per dose.

    The dose row is locked, so two people (or two tabs) documenting it at once apply one after
    the other: the second gets AlreadyDocumented naming the first. The same form submitted twice
    (same idempotency key) returns the first result with created=False. A triggered hold
    parameter records the dose as held and says so in `hold_message`.
    """
    now = now or timezone.now()
    if (existing := _by_key(idempotency_key)) is not None:
        return RecordResult(existing, created=False)
    try:
        return _record_dose(
            actor=actor,
            dose_id=dose.pk,
            status=status,
            key=idempotency_key,
            reason=(reason or "").strip(),
            late_reason=(late_reason or "").strip(),
            early_reason=(early_reason or "").strip(),
            other_code=other_code,
            vitals=vitals,
            witness_username=witness_username,
            witness_secret=witness_secret,
            notes=(notes or "").strip(),
            now=now,
        )
    except CertificationRequired:
        _raise_certification_alert(facility=dose.facility, user=actor, now=now)
        raise
    except IntegrityError:
        # The unique key or the one-per-dose constraint caught a race the lock did not see.
        if (existing := _by_key(idempotency_key)) is not None:
            return RecordResult(existing, created=False)
        raise _already_documented(ScheduledDose.objects.get(pk=dose.pk)) from None


def _already_documented(dose: ScheduledDose) -> AlreadyDocumented:
    standing = (
        dose.administrations.filter(voided=False).select_related("recorded_by", "facility").first()
    )
    if standing is None:
        return AlreadyDocumented("This dose was documented by someone else just now.")
    return AlreadyDocumented(
        f"Already documented ({standing.get_status_display().lower()}) by "
        f"{standing.recorded_by} at {_local(standing.facility, standing.recorded_at)}."
    )


@transaction.atomic
def _record_dose(
    *, actor, dose_id, status, key, now, vitals, witness_username, witness_secret, **fields
) -> RecordResult:
    dose = (
        ScheduledDose.objects.select_for_update(of=("self",))
        .select_related("facility", "prescription__medication", "resident")
        .get(pk=dose_id)
    )
    if (existing := _by_key(key)) is not None:
        return RecordResult(existing, created=False)
    if dose.state == DoseState.DOCUMENTED:
        raise _already_documented(dose)
    if dose.state == DoseState.CANCELLED:
        raise DomainError(
            f"This dose was cancelled ({dose.cancel_reason or 'order changed'}); nothing to record."
        )
    facility, order = dose.facility, dose.prescription
    role = _check_may_give(actor=actor, facility=facility, order=order, now=now)
    try:
        status = AdminStatus(status)
    except ValueError:
        raise DomainError("Choose what happened: given, refused, held, …") from None
    if status != AdminStatus.GIVEN and not fields["reason"]:
        raise DomainError(f"Enter the reason the dose was {status.label.lower()}.", field="reason")
    if (
        status == AdminStatus.OTHER
        and not OtherCode.objects.filter(facility=facility, code=fields["other_code"]).exists()
    ):
        raise DomainError("Choose a code for “other”.", field="other_code")
    if status != AdminStatus.OTHER:
        fields["other_code"] = ""
    if now < dose.window_opens_at:
        if role != Role.NURSE or not fields["early_reason"]:
            raise DomainError(
                f"Too early: this dose's window opens at {_local(facility, dose.window_opens_at)}."
                + (" As a nurse you may override with a reason." if role == Role.NURSE else ""),
                field="early_reason",
            )
    else:
        fields["early_reason"] = ""
    if now > dose.window_closes_at and not fields["late_reason"]:
        raise DomainError(
            f"Late: the window closed at {_local(facility, dose.window_closes_at)}. "
            "Enter a late reason.",
            field="late_reason",
        )
    if now <= dose.window_closes_at:
        fields["late_reason"] = ""
    readings = _parse_vitals(vitals)
    status, triggered = _apply_hold_parameters(order=order, readings=readings, status=status)
    if triggered:
        fields["reason"] = f"Hold parameter: {triggered}"
    witness = _witness_for(
        facility=facility,
        order=order,
        actor=actor,
        status=status,
        username=witness_username,
        secret=witness_secret,
    )
    administration = _save_administration(
        actor=actor,
        order=order,
        dose=dose,
        status=status,
        now=now,
        key=key,
        readings=readings,
        witness=witness,
        hold_triggered=triggered,
        **fields,
    )
    if status == AdminStatus.GIVEN:
        # Same transaction: a dose given is a dose out of stock, or neither happens.
        stock_consume(
            actor=actor,
            resident=dose.resident,
            medication=order.medication,
            quantity=order.dose_amount,
            at=now,
            administration_id=administration.pk,
            witness=witness,
        )
    dose.state, dose.state_changed_at = DoseState.DOCUMENTED, now
    dose.save(update_fields=["state", "state_changed_at"])
    Alert.objects.filter(dose=dose).exclude(state=AlertState.RESOLVED).update(
        state=AlertState.RESOLVED,
        resolved_by=actor,
        resolved_at=now,
        resolution_note=f"Documented: {status.label.lower()}",
    )
    hold_message = f"Not given: {triggered}. Recorded as held; tell the nurse." if triggered else ""
    return RecordResult(administration, created=True, hold_message=hold_message)


def prn_give(
    *,
    actor: User,
    prescription: Prescription,
    idempotency_key,
    prn_reason: str,
    vitals: dict | None = None,
    witness_username: str = "",
    witness_secret: str = "",
    approver_username: str = "",
    approver_secret: str = "",
    notes: str = "",
    now: datetime.datetime | None = None,
) -> RecordResult:
    """Give a PRN dose within its limits (minimum interval, maximum per rolling 24 hours).

    The order row is locked, so two PRN doses submitted at once are checked one after the other
    and cannot exceed the maximum. Where policy asks, a nurse approves first (authenticating on
    the same screen); controlled drugs need a witness.
    """
    now = now or timezone.now()
    if (existing := _by_key(idempotency_key)) is not None:
        return RecordResult(existing, created=False)
    try:
        return _give_prn(
            actor=actor,
            order_id=prescription.pk,
            key=idempotency_key,
            prn_reason=(prn_reason or "").strip(),
            vitals=vitals,
            witness_username=witness_username,
            witness_secret=witness_secret,
            approver_username=approver_username,
            approver_secret=approver_secret,
            notes=(notes or "").strip(),
            now=now,
        )
    except CertificationRequired:
        _raise_certification_alert(facility=prescription.facility, user=actor, now=now)
        raise
    except IntegrityError:
        if (existing := _by_key(idempotency_key)) is not None:
            return RecordResult(existing, created=False)
        raise


@transaction.atomic
def _give_prn(
    *,
    actor,
    order_id,
    key,
    prn_reason,
    vitals,
    witness_username,
    witness_secret,
    approver_username,
    approver_secret,
    notes,
    now,
) -> RecordResult:
    order = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("facility", "medication", "resident")
        .get(pk=order_id)
    )
    if (existing := _by_key(key)) is not None:
        return RecordResult(existing, created=False)
    facility = order.facility
    if not order.is_prn:
        raise DomainError("This is not a PRN order.")
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(
            f"This order is {order.get_status_display().lower()}; it cannot be given."
        )
    if order.resident.status != ResidentStatus.ACTIVE:
        raise DomainError(f"{order.resident.display_name} is not in the facility.")
    role = _check_may_give(actor=actor, facility=facility, order=order, now=now)
    if not prn_reason:
        raise DomainError("Enter why the PRN is given (the symptom or reason).", field="prn_reason")
    status = prn_status(order=order, now=now)
    if not status.allowed(now):
        too_many = status.given_in_24h >= order.prn_max_per_24h
        limit = (
            f"the maximum of {order.prn_max_per_24h} in 24 hours is reached"
            if too_many
            else f"it must be {order.prn_min_hours.normalize():f} h apart"
        )
        raise DomainError(
            f"Not yet: last given at {_local_day_time(facility, status.last_at)} by "
            f"{status.last_by}, and {limit}. Next allowed at "
            f"{_local_day_time(facility, status.next_allowed_at)}."
        )
    approver = None
    if facility.prn_requires_nurse_approval and role == Role.MED_TECH:
        approver = staff_authenticate(
            facility=facility,
            username=approver_username,
            secret=approver_secret,
            field="approver",
            who="approving nurse",
        )
        if membership_role(user=approver, facility_id=facility.pk) != Role.NURSE:
            raise DomainError("A nurse must approve this PRN (facility policy).", field="approver")
    readings = _parse_vitals(vitals)
    given, triggered = _apply_hold_parameters(
        order=order, readings=readings, status=AdminStatus.GIVEN
    )
    if triggered:
        raise DomainError(f"Do not give: {triggered}. Tell the nurse.", field="vitals")
    witness = _witness_for(
        facility=facility,
        order=order,
        actor=actor,
        status=given,
        username=witness_username,
        secret=witness_secret,
    )
    administration = _save_administration(
        actor=actor,
        order=order,
        dose=None,
        status=given,
        now=now,
        key=key,
        readings=readings,
        witness=witness,
        approved_by=approver,
        prn_reason=prn_reason,
        notes=notes,
    )
    stock_consume(
        actor=actor,
        resident=order.resident,
        medication=order.medication,
        quantity=order.dose_amount,
        at=now,
        administration_id=administration.pk,
        witness=witness,
    )
    return RecordResult(administration, created=True)


@transaction.atomic
def prn_followup_record(
    *,
    actor: User,
    administration: Administration,
    result: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> PrnFollowUp:
    locked = Administration.objects.select_for_update().get(pk=administration.pk)
    if locked.dose_id is not None or locked.status != AdminStatus.GIVEN:
        raise DomainError("Only a given PRN dose has an effectiveness follow-up.")
    if PrnFollowUp.objects.filter(administration=locked).exists():
        raise DomainError("The follow-up of this dose is already documented.")
    if result not in FollowUpResult.values:
        raise DomainError("Choose effective, partly effective or not effective.", field="result")
    if membership_role(user=actor, facility_id=locked.facility_id) is None:
        raise DomainError("You are not a member of this facility.")
    followup = PrnFollowUp.objects.create(
        administration=locked,
        result=result,
        note=(note or "").strip(),
        recorded_by=actor,
        recorded_at=now or timezone.now(),
    )
    Alert.objects.filter(kind=AlertKind.PRN_FOLLOWUP, subject=f"prn:{locked.pk}").exclude(
        state=AlertState.RESOLVED
    ).update(
        state=AlertState.RESOLVED,
        resolved_by=actor,
        resolved_at=followup.recorded_at,
        resolution_note=f"Follow-up: {followup.get_result_display().lower()}",
    )
    return followup


@transaction.atomic
def amendment_create(
    *,
    actor: User,
    administration: Administration,
    kind: str,
    reason: str,
    changes: dict,
    now: datetime.datetime | None = None,
) -> Amendment:
    """A nurse corrects a record. The original stays; "entered in error" voids it, so the dose
    can be documented again."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the amendment.", field="reason")
    if kind not in AmendmentKind.values:
        raise DomainError("Choose the kind of amendment.", field="kind")
    locked = (
        Administration.objects.select_for_update(of=("self",))
        .select_related("dose")
        .get(pk=administration.pk)
    )
    if membership_role(user=actor, facility_id=locked.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse can amend a record.")
    if locked.voided:
        raise DomainError("This record was already marked entered in error.")
    allowed = {"status", "administered_at", "reason", "notes", "dose_given"}
    changes = {k: v for k, v in (changes or {}).items() if k in allowed and v not in ("", None)}
    if "status" in changes and changes["status"] not in AdminStatus.values:
        raise DomainError("Choose a valid status.", field="status")
    if kind == AmendmentKind.CORRECTION and not changes:
        raise DomainError("Say what the correction changes.", field="changes")
    now = now or timezone.now()
    amendment = Amendment.objects.create(
        administration=locked,
        kind=kind,
        reason=reason,
        changes=changes,
        amended_by=actor,
        amended_at=now,
    )
    if kind == AmendmentKind.ENTERED_IN_ERROR:
        locked.voided = True
        locked.save(update_fields=["voided"])
        stock_reverse_for_administration(
            actor=actor, administration_id=locked.pk, at=now, reason=f"Entered in error: {reason}"
        )
        if locked.dose is not None:
            dose = ScheduledDose.objects.select_for_update().get(pk=locked.dose_id)
            dose.state, dose.state_changed_at = DoseState.DUE, now
            dose.save(update_fields=["state", "state_changed_at"])
            # The sweep moves it on (overdue / missed) at once if its window has passed.
            Alert.objects.filter(dose=dose).update(state=AlertState.OPEN, resolution_note="")
    return amendment


def alerts_raise_followups(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """PRN follow-ups not documented in time, and refusal patterns (3 in 7 days per order)."""
    now = now or timezone.now()
    counts = {"prn_followup": 0, "refusals": 0, "low_supply": 0}
    for facility in Facility.objects.only("id", "prn_followup_minutes", "timezone"):
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
        counts["prn_followup"] += _create_alerts(
            [
                Alert(
                    facility=facility,
                    resident_id=a.resident_id,
                    kind=AlertKind.PRN_FOLLOWUP,
                    subject=f"prn:{a.pk}",
                    severity=AlertSeverity.WARNING,
                    message=(
                        f"PRN {a.prescription.medication.name} given at "
                        f"{_local(facility, a.administered_at)}: effectiveness not documented."
                    ),
                    created_at=now,
                )
                for a in late
            ]
        )
        counts["refusals"] += _raise_refusal_alerts(facility=facility, now=now)
        counts["low_supply"] += _raise_low_supply_alerts(facility=facility, now=now)
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
    return _create_alerts(
        [
            Alert(
                facility=facility,
                resident_id=supply.item.resident_id,
                kind=AlertKind.LOW_SUPPLY,
                subject=f"stock:{supply.item.pk}:{last_received.get(supply.item.pk, 0)}",
                severity=AlertSeverity.WARNING,
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
    week_ago = now - datetime.timedelta(days=7)
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
        if len(rows) < 3:
            continue
        third = rows[2]
        alerts.append(
            Alert(
                facility=facility,
                resident_id=third.resident_id,
                kind=AlertKind.REFUSALS,
                # One alert per pattern: keyed by the third refusal that made it.
                subject=f"refusals:{order_id}:{third.pk}",
                severity=AlertSeverity.URGENT,
                message=(
                    f"{third.prescription.medication.name} refused {len(rows)} times in 7 days: "
                    "notify the prescriber within 24 hours."
                ),
                created_at=now,
            )
        )
    return _create_alerts(alerts)


def _create_alerts(alerts: list[Alert]) -> int:
    """Insert the alerts that do not exist yet (one per kind and subject); return how many.

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
