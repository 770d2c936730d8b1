"""Exceptions: late, missed, refused, held and not-available doses of a period, with the
prescriber notification of each refusal pattern."""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Q

from accounts.models import Facility, User
from core.time import local_stamp
from mar import rules
from mar.models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertState,
    DoseState,
    ScheduledDose,
    refusal_subject_record,
)
from residents.models import Resident

from .common import local_bounds, resident_filter

LATE, MISSED, REFUSED, HELD, NOT_AVAILABLE = "late", "missed", "refused", "held", "not_available"
SPACING_OVERRIDE = "spacing_override"
EXCEPTION_LABELS = {
    LATE: "Late",
    MISSED: "Missed",
    REFUSED: "Refused",
    HELD: "Held",
    NOT_AVAILABLE: "Not available",
    SPACING_OVERRIDE: "Spacing override",
}


@dataclass
class ExceptionRow:
    kinds: list[str]
    resident: Resident
    medication: str
    dose_text: str
    due_at: datetime.datetime  # facility-local
    who: User | None
    at: datetime.datetime | None  # facility-local time of administration
    why: str
    reading: str = ""  # the hold parameter that triggered, with the vitals taken
    notification: str = ""  # refusals only: the prescriber notification status
    notified: bool | None = None  # None: no refusal pattern to report
    record_pk: int | None = None
    dose_pk: int | None = None

    @property
    def kind_text(self) -> str:
        return ", ".join(EXCEPTION_LABELS[k] for k in self.kinds)


@dataclass
class ExceptionsReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    rows: list[ExceptionRow]

    @property
    def totals(self) -> list[tuple[str, int]]:
        counts = Counter(kind for row in self.rows for kind in row.kinds)
        return [(label, counts.get(kind, 0)) for kind, label in EXCEPTION_LABELS.items()]

    @property
    def not_notified(self) -> int:
        return sum(1 for row in self.rows if row.notified is False)


def exceptions_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
) -> ExceptionsReport:
    """Late, missed, refused, held and not-available doses due in the period, and doses a nurse
    gave closer to the previous one than the order's spacing (4 queries).

    A refusal that belongs to a pattern (3 of one order within 7 days) says whether the
    prescriber notification was recorded: a REFUSALS alert of that pattern, resolved (its
    resolution note is the record of the notification).
    """
    tz = facility.tz
    since, until = local_bounds(facility, start, end)
    who = resident_filter(unit_id, resident_id)
    standing = Administration.objects.filter(dose=OuterRef("pk"), voided=False)
    missed = list(
        ScheduledDose.objects.filter(
            who, facility=facility, due_at__gte=since, due_at__lt=until, state=DoseState.MISSED
        )
        .exclude(Exists(standing))
        .select_related("resident__unit", "prescription__medication")
    )
    records = list(
        Administration.objects.filter(
            who,
            facility=facility,
            voided=False,
            dose__due_at__gte=since,
            dose__due_at__lt=until,
        )
        .filter(
            Q(status__in=[AdminStatus.REFUSED, AdminStatus.HELD, AdminStatus.NOT_AVAILABLE])
            | ~Q(late_reason="")
            | Q(administered_at__gt=F("dose__window_closes_at"))
            | ~Q(spacing_override_reason="")
        )
        .select_related("resident__unit", "prescription__medication", "dose", "recorded_by")
    )
    notifications = _refusal_notifications(
        facility=facility,
        refusals=[r for r in records if r.status == AdminStatus.REFUSED],
        since=since,
        until=until,
    )

    rows = [
        ExceptionRow(
            kinds=[MISSED],
            resident=dose.resident,
            medication=str(dose.prescription.medication),
            dose_text=dose.prescription.dose_text,
            due_at=dose.due_at.astimezone(tz),
            who=None,
            at=None,
            why="Nothing recorded 4 hours after the window closed",
            dose_pk=dose.pk,
        )
        for dose in missed
    ]
    for record in records:
        kinds = []
        if record.status in (AdminStatus.REFUSED, AdminStatus.HELD, AdminStatus.NOT_AVAILABLE):
            kinds.append(str(record.status))
        if record.late_reason or record.administered_at > record.dose.window_closes_at:
            kinds.append(LATE)
        if record.spacing_override_reason:
            kinds.append(SPACING_OVERRIDE)
        why = record.reason
        if record.late_reason:
            why = f"{why}; late: {record.late_reason}" if why else f"Late: {record.late_reason}"
        if record.spacing_override_reason:
            override = f"given close to the previous dose: {record.spacing_override_reason}"
            why = f"{why}; {override}" if why else override[:1].upper() + override[1:]
        row = ExceptionRow(
            kinds=kinds,
            resident=record.resident,
            medication=str(record.prescription.medication),
            dose_text=record.prescription.dose_text,
            due_at=record.dose.due_at.astimezone(tz),
            who=record.recorded_by,
            at=record.administered_at.astimezone(tz),
            why=why,
            reading=_reading(record),
            record_pk=record.pk,
            dose_pk=record.dose_id,
        )
        if record.pk in notifications:
            row.notified, row.notification = notifications[record.pk]
        rows.append(row)
    rows.sort(key=lambda r: (r.due_at, r.resident.last_name, r.medication))
    return ExceptionsReport(facility, start, end, rows)


def _reading(record: Administration) -> str:
    if record.status != AdminStatus.HELD and not record.hold_triggered:
        return ""
    vitals = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (record.vitals or {}).items())
    return "; ".join(part for part in (record.hold_triggered, vitals) if part)


def _refusal_notifications(
    *, facility: Facility, refusals: list[Administration], since, until
) -> dict[int, tuple[bool | None, str]]:
    """{refusal pk: (notified, words)} for the refusals that are part of a pattern (2 queries)."""
    tz = facility.tz
    order_ids = {r.prescription_id for r in refusals}
    # Every refusal of those orders near the period: a pattern may start before it or end after.
    around = defaultdict(list)
    for pk, order_id, at in (
        Administration.objects.filter(
            prescription_id__in=order_ids or [0],
            status=AdminStatus.REFUSED,
            voided=False,
            administered_at__gte=since - rules.REFUSAL_WINDOW,
            administered_at__lt=until + rules.REFUSAL_WINDOW,
        )
        .order_by("administered_at", "pk")
        .values_list("pk", "prescription_id", "administered_at")
    ):
        around[order_id].append((at, pk))
    # The alert of a pattern is keyed by the refusal that completed it (mar.models).
    alerts: dict[int, Alert] = {}
    for alert in Alert.objects.filter(
        facility=facility,
        kind=AlertKind.REFUSALS,
        created_at__gte=since - 2 * rules.REFUSAL_WINDOW,
    ).select_related("resolved_by"):
        completing = refusal_subject_record(alert.subject)
        if completing is not None:
            alerts[completing] = alert

    result = {}
    for refusal in refusals:
        series = around.get(refusal.prescription_id, [])
        times = [at for at, _ in series]
        index = next((i for i, (_, pk) in enumerate(series) if pk == refusal.pk), None)
        if index is None:
            continue
        in_pattern = rules.in_refusal_pattern(times, index)
        if not in_pattern:
            continue
        at = refusal.administered_at
        nearby = [
            alerts[pk] for t, pk in series if abs(t - at) <= rules.REFUSAL_WINDOW and pk in alerts
        ]
        resolved = [a for a in nearby if a.state == AlertState.RESOLVED]
        if resolved:
            alert = resolved[0]
            when = local_stamp(alert.resolved_at, tz)
            note = f": {alert.resolution_note}" if alert.resolution_note else ""
            result[refusal.pk] = (True, f"notified (by {alert.resolved_by} at {when}{note})")
        elif nearby:
            result[refusal.pk] = (False, "NOT notified (alert open)")
        else:
            result[refusal.pk] = (False, "NOT notified")
    return result
