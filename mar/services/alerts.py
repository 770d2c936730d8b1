"""Alerts: what needs a person's attention, raised by sweeps and events, worked by nurses.

An alert is identified by (kind, subject); the subject names what it is about (see
`mar.models`: dose_subject, prn_subject, ...). Raising, resolving, cancelling and reopening
all find an alert by that key, so each dose, PRN dose, pattern or supply episode has one.
"""

import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Facility, User
from core.audit import automatic_work
from core.errors import DomainError
from core.time import local_time
from core.validators import check_inputs
from inventory.models import MovementKind, StockMovement
from inventory.selectors import movements_since_last_matching_count, reorder_list

from .. import rules
from ..models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertSeverity,
    AlertState,
    certification_subject,
    count_subject,
    prn_subject,
    refusal_subject,
    stock_subject,
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
    check_inputs(note=note)
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
                subject=stock_subject(supply.item.pk, last_received.get(supply.item.pk, 0)),
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
