"""The dose engine and the alerts it raises. Every write is a transactional function.

Clock-driven work is rows with state: each run looks at what the rows say now, so running twice,
running two at once, or running after hours of downtime all end in the same place.
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Facility, User
from meds.models import OrderStatus, Prescription
from meds.schedule import occurrences
from meds.signals import prescription_status_changed
from medtech.errors import DomainError
from residents.models import ResidentStatus
from residents.signals import resident_status_changed

from .models import (
    OPEN_STATES,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    DoseState,
    ScheduledDose,
)

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
    are still in the future.
    """
    now = now or timezone.now()
    horizon_end = now + HORIZON
    orders = (
        Prescription.objects.filter(
            status=OrderStatus.ACTIVE,
            is_prn=False,
            verified_at__isnull=False,
            resident__status=ResidentStatus.ACTIVE,
        )
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=(now - LOOKBACK).date()))
        .select_related("facility")
        .only(
            "id",
            "resident_id",
            "facility_id",
            "facility__timezone",
            "times",
            "recurrence",
            "weekdays",
            "every_n_days",
            "month_days",
            "start_date",
            "stop_date",
            "is_prn",
            "window_minutes",
            "active_since",
            "resident__present_since",
        )
        .select_related("resident")
    )
    if facility is not None:
        orders = orders.filter(facility=facility)

    new_rows: list[ScheduledDose] = []
    eligible_ids: list[int] = []
    for order in orders.iterator(chunk_size=2000):
        eligible_ids.append(order.pk)
        since = max(
            now - LOOKBACK,
            order.active_since or now,
            order.resident.present_since or now - LOOKBACK,
        )
        window = datetime.timedelta(minutes=order.window_minutes)
        for due_at in occurrences(order.dose_schedule(), order.facility.tz, since, horizon_end):
            new_rows.append(
                ScheduledDose(
                    facility_id=order.facility_id,
                    prescription_id=order.pk,
                    resident_id=order.resident_id,
                    due_at=due_at,
                    window_opens_at=due_at - window,
                    window_closes_at=due_at + window,
                )
            )
    if not new_rows:
        return 0
    existing = _existing_keys(eligible_ids, now - LOOKBACK, horizon_end)
    missing = [row for row in new_rows if (row.prescription_id, row.due_at) not in existing]
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
    order_ids: list[int], start: datetime.datetime, end: datetime.datetime
) -> set[tuple[int, datetime.datetime]]:
    if not order_ids:
        return set()
    return set(
        ScheduledDose.objects.filter(
            prescription_id__in=order_ids, due_at__gte=start, due_at__lt=end
        ).values_list("prescription_id", "due_at")
    )


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
    # skip_locked: a concurrent sweep or a med tech documenting the dose right now keeps it.
    candidates = ScheduledDose.objects.filter(state__in=states, window_closes_at__lte=closed_before)
    if facility_id is not None:
        candidates = candidates.filter(facility_id=facility_id)
    rows = list(
        candidates.select_for_update(skip_locked=True, of=("self",)).values_list(
            "id", "facility_id", "resident_id"
        )
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    ScheduledDose.objects.filter(id__in=ids).update(state=to_state, state_changed_at=now)
    kind, severity, word = _ALERT_FOR_STATE[to_state]
    subjects = [_dose_subject(dose_id) for dose_id in ids]
    if to_state == DoseState.MISSED:
        # The dose's overdue alert becomes its missed alert: one alert per dose, always.
        Alert.objects.filter(kind=AlertKind.OVERDUE_DOSE, subject__in=subjects).update(
            kind=kind, severity=severity, message=_dose_message(word), state=AlertState.OPEN
        )
    Alert.objects.bulk_create(
        [
            Alert(
                facility_id=facility,
                resident_id=resident,
                dose_id=dose_id,
                kind=kind,
                subject=_dose_subject(dose_id),
                severity=severity,
                message=_dose_message(word),
                created_at=now,
            )
            for dose_id, facility, resident in rows
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    return len(ids)


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
        transaction.on_commit(lambda: _generate_for_facility_soon(prescription.facility_id))


@receiver(resident_status_changed, dispatch_uid="mar.cancel_doses_of_resident")
def _on_resident_status_changed(*, resident, to_status, effective_at, **kwargs) -> None:
    """Runs inside the status change's transaction: absence cancels doses from its start."""
    if to_status == ResidentStatus.ACTIVE:
        transaction.on_commit(lambda: _generate_for_facility_soon(resident.facility_id))
        return
    _cancel_open_doses(
        filters=Q(resident_id=resident.pk),
        reason=str(to_status),
        since=effective_at,
        now=timezone.now(),
    )


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
