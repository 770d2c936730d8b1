"""The medication error rate of a facility-local month (CMS F759 style): errors / (doses given +
doses ordered but not given) x 100, with each counted error. The rules are `mar.rules`."""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Prefetch, Q

from accounts.models import Facility, User
from core.time import local_time
from mar import rules
from mar.models import (
    Administration,
    AdminStatus,
    Amendment,
    DoseState,
    ScheduledDose,
)
from meds.models import Prescription
from residents.models import Resident

from .common import local_bounds, resident_filter

# The error kinds and the target are the clinical rules' (mar.rules), shared with the med pass.
OMISSION, WRONG_TIME, GIVEN_ON_HOLD, PRN_LIMIT = (
    rules.OMISSION,
    rules.WRONG_TIME,
    rules.GIVEN_ON_HOLD,
    rules.PRN_LIMIT,
)
ERROR_LABELS = rules.ERROR_LABELS
ERROR_RATE_TARGET = rules.ERROR_RATE_TARGET


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
        return rules.error_rate(len(self.errors), self.opportunities)

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
    who = resident_filter(unit_id, resident_id)
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
        effective = rules.effective_record(
            status=record.status,
            at=record.administered_at,
            amendments=[(a.kind, a.changes) for a in record.amendments.all()],
            tz=tz,
            statuses=AdminStatus.values,
        )
        status, at, changed_to_given = effective.status, effective.at, effective.changed_to_given
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
        elif rules.outside_window(at, record.dose.window_opens_at, record.dose.window_closes_at):
            opens = local_time(record.dose.window_opens_at, tz)
            closes = local_time(record.dose.window_closes_at, tz)
            error(WRONG_TIME, f"Window {opens}–{closes}")
        triggered = _triggered_hold(record)
        if changed_to_given and record.hold_triggered:
            triggered = triggered or record.hold_triggered
        if triggered and (record.dose_id is not None or at >= since):
            error(GIVEN_ON_HOLD, triggered + (" (amended to given)" if changed_to_given else ""))
    errors.sort(key=lambda e: (e.due_at or e.at, e.resident.last_name, e.medication))
    return ErrorRateReport(facility, year, month, len(doses), prn_given, errors)


def _triggered_hold(record: Administration) -> str:
    """The hold parameter of the order the record's own vitals trigger, in words, or ""."""
    vitals = record.vitals or {}
    trigger = rules.triggered_hold(list(record.prescription.hold_parameters.all()), vitals)
    if trigger is None:
        return ""
    return f"{trigger.rule} (reading {vitals[trigger.rule.vital]})"


def _prn_limit_problem(order: Prescription, previous: list, at, tz) -> str:
    """Why a PRN dose given at `at` after the doses `previous` (ascending) broke its limits."""
    check = rules.prn_check(
        given=previous, at=at, min_hours=order.prn_min_hours, max_per_24h=order.prn_max_per_24h
    )
    if check.too_soon:
        hours = (at - check.last_at).total_seconds() / 3600
        return (
            f"{hours:.1f} h after the dose at {check.last_at.astimezone(tz):%m-%d %H:%M}; "
            f"minimum {order.prn_min_hours.normalize():f} h"
        )
    if check.too_many:
        return f"dose {check.given_in_24h + 1} in 24 hours; maximum {order.prn_max_per_24h}"
    return ""
