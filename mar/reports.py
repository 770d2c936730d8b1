"""Reports for nurse supervisors and surveyors: exceptions, PRN use, the medication error rate,
the controlled-drug log and audit trails.

Each selector returns plain data for a page and its CSV, in a fixed number of queries whatever
the number of residents, orders, doses and days. Periods are facility-local days, `start` and
`end` both included; the database is read in UTC.
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Exists, F, Max, OuterRef, Prefetch, Q

from accounts.models import Facility, Membership, User
from core.time import local_day_bounds
from inventory.models import ControlledCount, ControlledCountLine, StockItem, StockMovement
from meds.models import OrderStatus, Prescription
from residents.models import Resident

from .models import (
    Administration,
    AdminStatus,
    Alert,
    AlertKind,
    AlertState,
    Amendment,
    AmendmentKind,
    DoseState,
    ScheduledDose,
)

REFUSAL_PATTERN = 3  # refusals of one order ...
REFUSAL_WINDOW = datetime.timedelta(days=7)  # ... within 7 days: notify the prescriber
PRN_PATTERN_DAYS = 14  # the look-back of the "consider a scheduled order" flag
PRN_PATTERN_MIN_DAYS = 10  # days of those 14 ...
PRN_PATTERN_PER_DAY = 2  # ... with at least this many doses
PSYCHOTROPIC_PRN_DAYS = 14  # a psychotropic PRN order older than this needs a prescriber review
ERROR_RATE_TARGET = Decimal(5)
CONTROLLED_SCHEDULES = ("II", "III", "IV", "V")


def local_bounds(facility: Facility, start: datetime.date, end: datetime.date):
    """UTC [from, to) of the local days start..end (both included)."""
    return local_day_bounds(start, facility.tz)[0], local_day_bounds(end, facility.tz)[1]


def _local(moment: datetime.datetime | None, tz) -> datetime.datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def _resident_filter(unit_id: int | None, resident_id: int | None, prefix: str = "") -> Q:
    """Unit and resident filters; an id of another facility simply matches nothing."""
    q = Q()
    if unit_id:
        q &= Q(**{f"{prefix}resident__unit_id": unit_id})
    if resident_id:
        q &= Q(**{f"{prefix}resident_id": resident_id})
    return q


# Exceptions -----------------------------------------------------------------------------------

LATE, MISSED, REFUSED, HELD, NOT_AVAILABLE = "late", "missed", "refused", "held", "not_available"
EXCEPTION_LABELS = {
    LATE: "Late",
    MISSED: "Missed",
    REFUSED: "Refused",
    HELD: "Held",
    NOT_AVAILABLE: "Not available",
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
    """Late, missed, refused, held and not-available doses due in the period (4 queries).

    A refusal that belongs to a pattern (3 of one order within 7 days) says whether the
    prescriber notification was recorded: a REFUSALS alert of that pattern, resolved (its
    resolution note is the record of the notification).
    """
    tz = facility.tz
    since, until = local_bounds(facility, start, end)
    who = _resident_filter(unit_id, resident_id)
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
        why = record.reason
        if record.late_reason:
            why = f"{why}; late: {record.late_reason}" if why else f"Late: {record.late_reason}"
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
            administered_at__gte=since - REFUSAL_WINDOW,
            administered_at__lt=until + REFUSAL_WINDOW,
        )
        .order_by("administered_at", "pk")
        .values_list("pk", "prescription_id", "administered_at")
    ):
        around[order_id].append((at, pk))
    # The alert of a pattern is keyed by the refusal that made it: "refusals:<order>:<record>".
    alerts: dict[int, Alert] = {}
    for alert in Alert.objects.filter(
        facility=facility,
        kind=AlertKind.REFUSALS,
        created_at__gte=since - 2 * REFUSAL_WINDOW,
    ).select_related("resolved_by"):
        parts = alert.subject.split(":")
        if len(parts) == 3 and parts[2].isdigit():
            alerts[int(parts[2])] = alert

    result = {}
    for refusal in refusals:
        series = around.get(refusal.prescription_id, [])
        times = [at for at, _ in series]
        index = next((i for i, (_, pk) in enumerate(series) if pk == refusal.pk), None)
        if index is None:
            continue
        in_pattern = any(
            j >= 0
            and j + REFUSAL_PATTERN - 1 < len(times)
            and times[j + REFUSAL_PATTERN - 1] - times[j] <= REFUSAL_WINDOW
            for j in range(index - REFUSAL_PATTERN + 1, index + 1)
        )
        if not in_pattern:
            continue
        at = refusal.administered_at
        nearby = [alerts[pk] for t, pk in series if abs(t - at) <= REFUSAL_WINDOW and pk in alerts]
        resolved = [a for a in nearby if a.state == AlertState.RESOLVED]
        if resolved:
            alert = resolved[0]
            when = alert.resolved_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            note = f": {alert.resolution_note}" if alert.resolution_note else ""
            result[refusal.pk] = (True, f"notified (by {alert.resolved_by} at {when}{note})")
        elif nearby:
            result[refusal.pk] = (False, "NOT notified (alert open)")
        else:
            result[refusal.pk] = (False, "NOT notified")
    return result


# PRN ------------------------------------------------------------------------------------------

CONSIDER_SCHEDULED = "consider a scheduled order"
NEEDS_REVIEW = "needs prescriber review"


@dataclass
class PrnDose:
    pk: int
    at: datetime.datetime  # facility-local
    by: User
    reason: str
    followup: str  # "" when missing
    followup_result: str


@dataclass
class PrnRow:
    resident: Resident
    order: Prescription
    medication: str
    doses: list[PrnDose]
    reasons: list[tuple[str, int]]
    results: list[tuple[str, int]]
    missing: list[PrnDose]
    flags: list[str]
    busy_days: int  # days of the last 14 with 2 or more doses


@dataclass
class PrnReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    rows: list[PrnRow]

    @property
    def dose_count(self) -> int:
        return sum(len(r.doses) for r in self.rows)

    @property
    def missing_count(self) -> int:
        return sum(len(r.missing) for r in self.rows)


def prn_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
    today: datetime.date | None = None,
) -> PrnReport:
    """Per resident and PRN order: doses of the period, reasons, follow-up results and the
    follow-ups missing; flags a PRN used twice a day on 10 of the last 14 days (ending `end`)
    and a psychotropic PRN order older than 14 days (2 queries)."""
    tz = facility.tz
    today = today or datetime.datetime.now(datetime.UTC).astimezone(tz).date()
    since, until = local_bounds(facility, start, end)
    pattern_first = end - datetime.timedelta(days=PRN_PATTERN_DAYS - 1)
    lookback = local_bounds(facility, pattern_first, end)[0]
    who = _resident_filter(unit_id, resident_id)
    given = list(
        Administration.objects.filter(
            who,
            facility=facility,
            dose__isnull=True,
            status=AdminStatus.GIVEN,
            voided=False,
            administered_at__gte=min(since, lookback),
            administered_at__lt=until,
        )
        .select_related("recorded_by", "followup")
        .order_by("administered_at", "pk")
    )
    used = {a.prescription_id for a in given if a.administered_at >= since}
    orders = list(
        Prescription.objects.filter(who, facility=facility, is_prn=True)
        .filter(Q(status__in=[OrderStatus.ACTIVE, OrderStatus.ON_HOLD]) | Q(pk__in=used or [0]))
        .select_related("resident__unit", "medication")
        .order_by("resident__last_name", "resident__first_name", "resident_id", "medication__name")
    )
    in_period: dict[int, list[Administration]] = defaultdict(list)
    per_day: dict[int, Counter] = defaultdict(Counter)
    for administration in given:
        local = administration.administered_at.astimezone(tz)
        if administration.administered_at >= since:
            in_period[administration.prescription_id].append(administration)
        if pattern_first <= local.date() <= end:
            per_day[administration.prescription_id][local.date()] += 1

    rows = []
    for order in orders:
        doses = [_prn_dose(a, tz) for a in in_period.get(order.pk, [])]
        busy = sum(1 for n in per_day[order.pk].values() if n >= PRN_PATTERN_PER_DAY)
        flags = []
        if busy >= PRN_PATTERN_MIN_DAYS:
            flags.append(CONSIDER_SCHEDULED)
        if _needs_review(order, min(end, today), tz):
            flags.append(NEEDS_REVIEW)
        rows.append(
            PrnRow(
                resident=order.resident,
                order=order,
                medication=str(order.medication),
                doses=doses,
                reasons=Counter(d.reason for d in doses).most_common(),
                results=Counter(d.followup_result for d in doses if d.followup).most_common(),
                missing=[d for d in doses if not d.followup],
                flags=flags,
                busy_days=busy,
            )
        )
    return PrnReport(facility, start, end, rows)


def _prn_dose(administration: Administration, tz) -> PrnDose:
    followup = getattr(administration, "followup", None)
    text = ""
    if followup is not None:
        text = followup.get_result_display() + (f": {followup.note}" if followup.note else "")
    return PrnDose(
        pk=administration.pk,
        at=administration.administered_at.astimezone(tz),
        by=administration.recorded_by,
        reason=administration.prn_reason,
        followup=text,
        followup_result=followup.get_result_display() if followup is not None else "",
    )


def _needs_review(order: Prescription, on: datetime.date, tz) -> bool:
    """A psychotropic PRN order running past 14 days from when it was written (CMS F758)."""
    if not order.medication.is_psychotropic or order.status == OrderStatus.DISCONTINUED:
        return False
    written = min(order.entered_at.astimezone(tz).date(), order.start_date)
    limit = datetime.timedelta(days=PSYCHOTROPIC_PRN_DAYS)
    if order.stop_date is not None and order.stop_date - written <= limit:
        return False
    return on - written > limit


# Medication error rate ------------------------------------------------------------------------

OMISSION = "omission"
WRONG_TIME = "wrong_time"
GIVEN_ON_HOLD = "given_on_hold"
PRN_LIMIT = "prn_limit"
ERROR_LABELS = {
    OMISSION: "Omission (missed dose)",
    WRONG_TIME: "Wrong time (given outside the window)",
    GIVEN_ON_HOLD: "Given while a hold parameter triggered",
    PRN_LIMIT: "PRN beyond its limits",
}


@dataclass
class ErrorRow:
    kind: str
    resident: Resident
    medication: str
    due_at: datetime.datetime | None  # facility-local; None for a PRN dose
    at: datetime.datetime | None  # facility-local time given
    who: User | None
    detail: str

    @property
    def kind_label(self) -> str:
        return ERROR_LABELS[self.kind]


@dataclass
class ErrorRateReport:
    facility: Facility
    year: int
    month: int
    scheduled: int  # scheduled doses of the month, documented or missed
    prn_given: int
    errors: list[ErrorRow]

    @property
    def opportunities(self) -> int:
        return self.scheduled + self.prn_given

    @property
    def rate(self) -> Decimal | None:
        if not self.opportunities:
            return None
        value = Decimal(len(self.errors) * 100) / Decimal(self.opportunities)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def below_target(self) -> bool:
        return self.rate is not None and self.rate < ERROR_RATE_TARGET

    @property
    def verdict(self) -> str:
        if self.rate is None:
            return "no doses this month"
        return "below the 5% target" if self.below_target else "ABOVE the 5% target"

    @property
    def totals(self) -> list[tuple[str, int]]:
        counts = Counter(e.kind for e in self.errors)
        return [(label, counts.get(kind, 0)) for kind, label in ERROR_LABELS.items()]


def error_rate_report(
    *,
    facility: Facility,
    year: int,
    month: int,
    unit_id: int | None = None,
    resident_id: int | None = None,
) -> ErrorRateReport:
    """Errors / (doses given + doses ordered but not given) x 100 for a facility-local month
    (CMS F759 style; 5 queries).

    Opportunities: scheduled doses of the month that were documented or missed, plus PRN doses
    given. Errors: missed doses; given outside the window; given while a hold parameter of the
    order triggered (also an amendment that turns a held record into "given"); a PRN dose given
    sooner than its minimum interval or beyond its maximum per rolling 24 hours. A correction
    amendment's status and time stand in for the record's.
    """
    tz = facility.tz
    first = datetime.date(year, month, 1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    since, until = local_bounds(facility, first, last)
    who = _resident_filter(unit_id, resident_id)
    longest = Prescription.objects.filter(facility=facility, is_prn=True).aggregate(
        hours=Max("prn_min_hours")
    )["hours"] or Decimal(0)
    lookback = max(datetime.timedelta(hours=24), datetime.timedelta(hours=float(longest)))

    doses = list(
        ScheduledDose.objects.filter(
            who,
            facility=facility,
            due_at__gte=since,
            due_at__lt=until,
            state__in=[DoseState.DOCUMENTED, DoseState.MISSED],
        ).select_related("resident__unit", "prescription__medication")
    )
    records = list(
        Administration.objects.filter(who, facility=facility, voided=False)
        .filter(
            Q(dose__due_at__gte=since, dose__due_at__lt=until)
            | Q(dose__isnull=True, administered_at__gte=since - lookback, administered_at__lt=until)
        )
        .select_related("resident__unit", "prescription__medication", "dose", "recorded_by")
        .prefetch_related(
            Prefetch("amendments", queryset=Amendment.objects.order_by("amended_at", "pk")),
            "prescription__hold_parameters",
        )
        .order_by("administered_at", "pk")
    )

    errors: list[ErrorRow] = [
        ErrorRow(
            OMISSION,
            dose.resident,
            str(dose.prescription.medication),
            dose.due_at.astimezone(tz),
            None,
            None,
            "Nothing recorded",
        )
        for dose in doses
        if dose.state == DoseState.MISSED
    ]
    prn_given = 0
    prn_series: dict[int, list[datetime.datetime]] = defaultdict(list)
    for record in records:
        status, at, changed_to_given = _effective(record, tz)
        due = record.dose.due_at.astimezone(tz) if record.dose_id else None

        def error(kind, detail, record=record, at=at, due=due):
            errors.append(
                ErrorRow(
                    kind,
                    record.resident,
                    str(record.prescription.medication),
                    due,
                    at.astimezone(tz),
                    record.recorded_by,
                    detail,
                )
            )

        if status != AdminStatus.GIVEN:
            continue
        if record.dose_id is None:
            previous = prn_series[record.prescription_id]
            order = record.prescription
            if at >= since:
                prn_given += 1
                problem = _prn_limit_problem(order, previous, at, tz)
                if problem:
                    error(PRN_LIMIT, problem)
            previous.append(at)
        elif at < record.dose.window_opens_at or at > record.dose.window_closes_at:
            opens = record.dose.window_opens_at.astimezone(tz).strftime("%H:%M")
            closes = record.dose.window_closes_at.astimezone(tz).strftime("%H:%M")
            error(WRONG_TIME, f"Window {opens}–{closes}")
        triggered = _triggered_hold(record)
        if changed_to_given and record.hold_triggered:
            triggered = triggered or record.hold_triggered
        if triggered and (record.dose_id is not None or at >= since):
            error(GIVEN_ON_HOLD, triggered + (" (amended to given)" if changed_to_given else ""))
    errors.sort(key=lambda e: (e.due_at or e.at, e.resident.last_name, e.medication))
    return ErrorRateReport(facility, year, month, len(doses), prn_given, errors)


def _effective(record: Administration, tz) -> tuple[str, datetime.datetime, bool]:
    """(status, administered at, turned into "given" by an amendment) after corrections."""
    status, at, changed = record.status, record.administered_at, False
    for amendment in record.amendments.all():
        if amendment.kind == AmendmentKind.ENTERED_IN_ERROR:
            continue
        changes = amendment.changes or {}
        if changes.get("status") in AdminStatus.values:
            changed = changes["status"] == AdminStatus.GIVEN and status != AdminStatus.GIVEN
            status = changes["status"]
        if changes.get("administered_at"):
            try:
                moment = datetime.datetime.fromisoformat(str(changes["administered_at"]))
            except ValueError:
                continue
            # A naive time is the facility's wall clock.
            at = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return status, at, changed


def _triggered_hold(record: Administration) -> str:
    """The hold parameter of the order the record's own vitals trigger, in words, or ""."""
    for parameter in record.prescription.hold_parameters.all():
        raw = (record.vitals or {}).get(parameter.vital)
        if raw in (None, ""):
            continue
        try:
            reading = Decimal(str(raw))
        except InvalidOperation:
            continue
        if parameter.triggers_on(reading):
            return f"{parameter} (reading {raw})"
    return ""


def _prn_limit_problem(order: Prescription, previous: list, at, tz) -> str:
    if previous and order.prn_min_hours:
        gap = at - previous[-1]
        if gap < datetime.timedelta(hours=float(order.prn_min_hours)):
            hours = gap.total_seconds() / 3600
            return (
                f"{hours:.1f} h after the dose at {previous[-1].astimezone(tz):%m-%d %H:%M}; "
                f"minimum {order.prn_min_hours.normalize():f} h"
            )
    if order.prn_max_per_24h:
        window = at - datetime.timedelta(hours=24)
        in_24h = 1 + sum(1 for t in previous if t > window)
        if in_24h > order.prn_max_per_24h:
            return f"dose {in_24h} in 24 hours; maximum {order.prn_max_per_24h}"
    return ""


# Controlled-drug log --------------------------------------------------------------------------


@dataclass
class CountEntry:
    at: datetime.datetime  # facility-local
    unit: str
    expected: Decimal
    counted: Decimal
    outgoing_by: User
    incoming_by: User
    discrepancy: bool


@dataclass
class ControlledItemLog:
    item: StockItem
    opening: Decimal  # balance before the period
    movements: list[StockMovement]
    counts: list[CountEntry]

    @property
    def closing(self) -> Decimal:
        return self.movements[-1].balance_after if self.movements else self.opening


def controlled_log_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
    item_id: int | None = None,
) -> list[ControlledItemLog]:
    """Per controlled stock item: the opening balance, the ledger lines of the period (as
    `inventory.selectors.item_ledger` reads them, for every item at once) and the shift counts
    with both signatures (4 queries)."""
    tz = facility.tz
    since, until = local_bounds(facility, start, end)
    items_qs = StockItem.objects.filter(
        _resident_filter(unit_id, resident_id),
        facility=facility,
        medication__controlled_schedule__in=CONTROLLED_SCHEDULES,
    )
    if item_id:
        items_qs = items_qs.filter(pk=item_id)
    items = list(
        items_qs.select_related("medication", "resident__unit").order_by(
            "medication__name", "resident__last_name", "pk"
        )
    )
    ids = [item.pk for item in items] or [0]
    opening = dict(
        StockMovement.objects.filter(item_id__in=ids, at__lt=since)
        .order_by("item_id", "-at", "-pk")
        .distinct("item_id")
        .values_list("item_id", "balance_after")
    )
    movements = defaultdict(list)
    for movement in (
        StockMovement.objects.filter(item_id__in=ids, at__gte=since, at__lt=until)
        .select_related("by", "witness")
        .order_by("at", "pk")
    ):
        movement.local_at = movement.at.astimezone(tz)
        movements[movement.item_id].append(movement)
    counts = defaultdict(list)
    for line in (
        ControlledCountLine.objects.filter(
            item_id__in=ids, count__counted_at__gte=since, count__counted_at__lt=until
        )
        .select_related("count__outgoing_by", "count__incoming_by", "count__unit")
        .order_by("count__counted_at", "pk")
    ):
        count: ControlledCount = line.count
        counts[line.item_id].append(
            CountEntry(
                at=count.counted_at.astimezone(tz),
                unit=count.unit.name,
                expected=line.expected,
                counted=line.counted,
                outgoing_by=count.outgoing_by,
                incoming_by=count.incoming_by,
                discrepancy=line.counted != line.expected,
            )
        )
    return [
        ControlledItemLog(
            item=item,
            opening=opening.get(item.pk, Decimal(0)),
            movements=movements.get(item.pk, []),
            counts=counts.get(item.pk, []),
        )
        for item in items
    ]


# Audit trails ---------------------------------------------------------------------------------


@dataclass
class AuditEntry:
    at: datetime.datetime  # facility-local
    user: User | None
    model: str
    label: str
    object_id: str
    changes: list[tuple[str, str, str]]  # (field, before, after)
    url: str = ""


def _changes(diff: dict, data: dict, label: str) -> list[tuple[str, str, str]]:
    if diff:
        return [(key, _text(before), _text(after)) for key, (before, after) in diff.items()]
    if label == "insert":
        return [
            (key, "", _text(value))
            for key, value in (data or {}).items()
            if key != "id" and value not in (None, "", [], {})
        ]
    return []


def _text(value) -> str:
    return "" if value is None else str(value)


def resident_audit_report(
    *, resident: Resident, start: datetime.date, end: datetime.date
) -> list[AuditEntry]:
    """Every change of the resident and of rows pointing at them within the period, newest
    first (`residents.selectors.resident_audit_trail`, 2 queries)."""
    from residents.selectors import resident_audit_trail

    tz = resident.facility.tz
    since, until = local_bounds(resident.facility, start, end)
    return [
        AuditEntry(
            at=entry["at"].astimezone(tz),
            user=entry["user"],
            model=entry["model"],
            label=entry["label"],
            object_id=str((entry["data"] or {}).get("id", "")),
            changes=_changes(entry["diff"], entry["data"], entry["label"]),
            url=entry["url"],
        )
        for entry in resident_audit_trail(resident=resident)
        if since <= entry["at"] < until
    ]


def staff_member(*, facility: Facility, pk: int) -> User | None:
    """A user who is (or was) a member of the facility, else None."""
    membership = (
        Membership.objects.filter(facility=facility, user_id=pk).select_related("user").first()
    )
    return membership.user if membership is not None else None


# Rows that carry no facility of their own are placed through the row they point at.
_FACILITY_OF = {
    "resident_id": Resident,
    "prescription_id": Prescription,
    "administration_id": Administration,
    "item_id": StockItem,
    "count_id": ControlledCount,
}


def staff_audit_report(
    *, facility: Facility, user: User, start: datetime.date, end: datetime.date
) -> list[AuditEntry]:
    """Every change the staff member made (the pghistory context's user) within the period,
    newest first, limited to this facility's rows, the accounts of its staff and the shared
    catalog (medications). 1 query for the events, then 1 per kind of row they point at and 1
    for the facility's members."""
    from pghistory.models import MiddlewareEvents

    tz = facility.tz
    since, until = local_bounds(facility, start, end)
    events = list(
        MiddlewareEvents.objects.filter(
            pgh_context__user=user.pk, pgh_created_at__gte=since, pgh_created_at__lt=until
        ).order_by("-pgh_created_at", "-pgh_id")
    )
    wanted: dict[str, set] = {key: set() for key in _FACILITY_OF}
    for event in events:
        data = event.pgh_data or {}
        if "facility_id" in data:
            continue
        for key in _FACILITY_OF:
            if data.get(key) is not None:
                wanted[key].add(data[key])
                break
    ours = {
        key: set(
            model.objects.filter(pk__in=wanted[key] or [0], facility=facility).values_list(
                "pk", flat=True
            )
        )
        for key, model in _FACILITY_OF.items()
    }
    # A user account (or a certification) belongs to the facilities the person works in.
    members = set(Membership.objects.filter(facility=facility).values_list("user_id", flat=True))
    entries = []
    for event in events:
        data = event.pgh_data or {}
        if "facility_id" in data:
            if data["facility_id"] != facility.pk:
                continue
        elif event.pgh_obj_model == User._meta.label:
            if data.get("id") not in members:
                continue
        else:
            key = next((k for k in _FACILITY_OF if data.get(k) is not None), None)
            if key is not None and data[key] not in ours[key]:
                continue
            if key is None and data.get("user_id") is not None and data["user_id"] not in members:
                continue
        entries.append(
            AuditEntry(
                at=event.pgh_created_at.astimezone(tz),
                user=user,
                model=event.pgh_model.split(".")[-1].removesuffix("Event"),
                label=event.pgh_label,
                object_id=event.pgh_obj_id or "",
                changes=_changes(event.pgh_diff or {}, data, event.pgh_label),
                url=(event.pgh_context or {}).get("url", ""),
            )
        )
    return entries
