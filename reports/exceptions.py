"""Exceptions: late, missed, refused, held and not-available doses of a period, with the
prescriber notification of each refusal pattern."""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property

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
from meds.models import Medication
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
class ExceptionEntry:
    """A row of the report before it is read whole: what it takes to sort, count and page it."""

    key: tuple  # (due, resident's last name, medication): the report's order
    kinds: list[str]
    dose_pk: int | None = None  # a missed dose
    record_pk: int | None = None  # an administration
    notified: bool | None = None
    notification: str = ""


@dataclass
class ExceptionsReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    entries: list[ExceptionEntry]  # every row, in order; `rows_for` reads some of them whole

    @cached_property
    def rows(self) -> list[ExceptionRow]:
        """Every row read whole (the CSV)."""
        return self.rows_for(self.entries)

    def rows_for(self, entries: list[ExceptionEntry]) -> list[ExceptionRow]:
        """The rows of these entries (a page), in their order (2 queries)."""
        return _rows(self.facility, entries)

    @property
    def totals(self) -> list[tuple[str, int]]:
        counts = Counter(kind for entry in self.entries for kind in entry.kinds)
        return [(label, counts.get(kind, 0)) for kind, label in EXCEPTION_LABELS.items()]

    @property
    def not_notified(self) -> int:
        return sum(1 for entry in self.entries if entry.notified is False)


def exceptions_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
) -> ExceptionsReport:
    """Late, missed, refused, held and not-available doses due in the period, and doses a nurse
    gave closer to the previous one than the order's spacing: every row as values, sorted and
    counted (5 queries, whatever the period holds); `rows_for` reads a page of them whole.

    A refusal that belongs to a pattern (3 of one order within 7 days) says whether the
    prescriber notification was recorded: a REFUSALS alert of that pattern, resolved (its
    resolution note is the record of the notification).
    """
    since, until = local_bounds(facility, start, end)
    who = resident_filter(unit_id, resident_id)
    standing = Administration.objects.filter(dose=OuterRef("pk"), voided=False)
    missed = (
        ScheduledDose.objects.filter(
            who, facility=facility, due_at__gte=since, due_at__lt=until, state=DoseState.MISSED
        )
        .exclude(Exists(standing))
        .order_by("due_at", "pk")
        .values_list("pk", "due_at", "resident__last_name", "prescription__medication_id")
    )
    records = (
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
        .order_by("administered_at", "pk")
        .values_list(
            "pk",
            "status",
            "late_reason",
            "spacing_override_reason",
            "administered_at",
            "dose__window_closes_at",
            "dose__due_at",
            "resident__last_name",
            "prescription__medication_id",
            "prescription_id",
        )
    )
    missed, records = list(missed), list(records)
    medications = _medication_names({row[3] for row in missed} | {row[8] for row in records})
    notifications = _refusal_notifications(
        facility=facility,
        refusals=[(r[0], r[9], r[4]) for r in records if r[1] == AdminStatus.REFUSED],
        since=since,
        until=until,
    )

    entries = [
        ExceptionEntry((due_at, last_name, medications[medication]), [MISSED], dose_pk=pk)
        for pk, due_at, last_name, medication in missed
    ]
    for pk, status, late, override, at, closes, due_at, last_name, medication, _ in records:
        kinds = []
        if status in (AdminStatus.REFUSED, AdminStatus.HELD, AdminStatus.NOT_AVAILABLE):
            kinds.append(str(status))
        if late or at > closes:
            kinds.append(LATE)
        if override:
            kinds.append(SPACING_OVERRIDE)
        entry = ExceptionEntry((due_at, last_name, medications[medication]), kinds, record_pk=pk)
        if pk in notifications:
            entry.notified, entry.notification = notifications[pk]
        entries.append(entry)
    entries.sort(key=lambda e: e.key)  # stable: ties stay in the order found
    return ExceptionsReport(facility, start, end, entries)


def _medication_names(ids: set[int]) -> dict[int, str]:
    return {m.pk: str(m) for m in Medication.objects.filter(pk__in=ids or [0])}


def _rows(facility: Facility, entries: list[ExceptionEntry]) -> list[ExceptionRow]:
    tz = facility.tz
    doses = ScheduledDose.objects.select_related(
        "resident__unit", "prescription__medication"
    ).in_bulk([e.dose_pk for e in entries if e.dose_pk] or [0])
    records = Administration.objects.select_related(
        "resident__unit", "prescription__medication", "dose", "recorded_by"
    ).in_bulk([e.record_pk for e in entries if e.record_pk] or [0])
    rows = []
    for entry in entries:
        if entry.dose_pk is not None:
            dose = doses[entry.dose_pk]
            rows.append(
                ExceptionRow(
                    kinds=entry.kinds,
                    resident=dose.resident,
                    medication=str(dose.prescription.medication),
                    dose_text=dose.prescription.dose_text,
                    due_at=dose.due_at.astimezone(tz),
                    who=None,
                    at=None,
                    why="Nothing recorded 4 hours after the window closed",
                    dose_pk=dose.pk,
                )
            )
            continue
        record = records[entry.record_pk]
        why = record.reason
        if record.late_reason:
            why = f"{why}; late: {record.late_reason}" if why else f"Late: {record.late_reason}"
        if record.spacing_override_reason:
            override = f"given close to the previous dose: {record.spacing_override_reason}"
            why = f"{why}; {override}" if why else override[:1].upper() + override[1:]
        rows.append(
            ExceptionRow(
                kinds=entry.kinds,
                resident=record.resident,
                medication=str(record.prescription.medication),
                dose_text=record.prescription.dose_text,
                due_at=record.dose.due_at.astimezone(tz),
                who=record.recorded_by,
                at=record.administered_at.astimezone(tz),
                why=why,
                reading=_reading(record),
                notification=entry.notification,
                notified=entry.notified,
                record_pk=record.pk,
                dose_pk=record.dose_id,
            )
        )
    return rows


def _reading(record: Administration) -> str:
    if record.status != AdminStatus.HELD and not record.hold_triggered:
        return ""
    vitals = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (record.vitals or {}).items())
    return "; ".join(part for part in (record.hold_triggered, vitals) if part)


def _refusal_notifications(
    *, facility: Facility, refusals: list[tuple], since, until
) -> dict[int, tuple[bool | None, str]]:
    """{refusal pk: (notified, words)} for the refusals ((pk, order id, given at)) that are part
    of a pattern (2 queries)."""
    tz = facility.tz
    order_ids = {order_id for _, order_id, _ in refusals}
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
    for refusal_pk, order_id, at in refusals:
        series = around.get(order_id, [])
        times = [t for t, _ in series]
        index = next((i for i, (_, pk) in enumerate(series) if pk == refusal_pk), None)
        if index is None:
            continue
        in_pattern = rules.in_refusal_pattern(times, index)
        if not in_pattern:
            continue
        nearby = [
            alerts[pk] for t, pk in series if abs(t - at) <= rules.REFUSAL_WINDOW and pk in alerts
        ]
        resolved = [a for a in nearby if a.state == AlertState.RESOLVED]
        if resolved:
            alert = resolved[0]
            when = local_stamp(alert.resolved_at, tz)
            note = f": {alert.resolution_note}" if alert.resolution_note else ""
            result[refusal_pk] = (True, f"notified (by {alert.resolved_by} at {when}{note})")
        elif nearby:
            result[refusal_pk] = (False, "NOT notified (alert open)")
        else:
            result[refusal_pk] = (False, "NOT notified")
    return result
