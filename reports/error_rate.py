"""The medication error rate of a facility-local month (CMS F759 style): errors / (doses given +
doses ordered but not given) x 100, with each counted error. The rules are `mar.rules`.

The month of a large facility holds a hundred thousand records, of which a few are errors: the
opportunities are counted in SQL, and only the records that may be errors are read (as values,
not model instances) and judged by the rules. Two conditions are written in SQL to find those
records: the dose window (`rules.outside_window`) and a hold parameter's comparison (built from
`rules.HOLD_COMPARISONS`); each record they find is judged again by the rule itself, and
tests/reports/test_error_rate_sql.py compares them with the rules on varied data. A record
with an amendment, and every PRN record of an order that has one, is read whole and judged as
it stands after its amendments (`rules.effective_record`).
"""

import datetime
import operator
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, F, Max, Q
from django.db.models.expressions import RawSQL

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
from meds.models import HoldParameter, Medication, Prescription
from residents.models import Resident

from .common import local_bounds, resident_filter

MISSED = "Nothing recorded"

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


# The rules' conditions in SQL ------------------------------------------------------------------


def outside_window_q(prefix: str = "") -> Q:
    """`rules.outside_window(administered_at, dose's window opens, closes)` as a filter."""
    return Q(**{f"{prefix}administered_at__lt": F(f"{prefix}dose__window_opens_at")}) | Q(
        **{f"{prefix}administered_at__gt": F(f"{prefix}dose__window_closes_at")}
    )


_SQL_SYMBOLS = {operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">="}
# A reading PostgreSQL and Python's Decimal both read as the same plain number.
_PLAIN_NUMBER = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$"


def hold_candidate_sql(table: str = Administration._meta.db_table) -> RawSQL:
    """Whether a hold parameter of the record's order may trigger on the record's vitals: a
    reading that is a plain number and compares so with the threshold (the comparisons of
    `rules.HOLD_COMPARISONS`), or any other reading that is not blank (the rule decides)."""
    reading = f"({table}.vitals ->> h.vital)"
    cases = " ".join(
        f"WHEN '{code}' THEN {reading}::numeric {_SQL_SYMBOLS[compare]} h.threshold"
        for code, compare in rules.HOLD_COMPARISONS.items()
    )
    return RawSQL(
        f"""EXISTS (
            SELECT 1 FROM {HoldParameter._meta.db_table} h
            WHERE h.prescription_id = {table}.prescription_id
              AND COALESCE({reading}, '') <> ''
              AND (CASE WHEN {reading} ~ %s THEN (CASE h.comparator {cases} ELSE TRUE END)
                   ELSE TRUE END))""",
        (_PLAIN_NUMBER,),
        output_field=BooleanField(),
    )


# The report -----------------------------------------------------------------------------------


@dataclass
class _Found:
    """An error before its resident and person are read: `position` keeps the order in which
    the records were judged (the order of ties in the report)."""

    position: tuple
    kind: str
    resident_id: int
    medication_id: int
    due_at: datetime.datetime | None  # UTC
    at: datetime.datetime | None  # UTC
    who_id: int | None
    detail: str


def error_rate_report(
    *,
    facility: Facility,
    year: int,
    month: int,
    unit_id: int | None = None,
    resident_id: int | None = None,
) -> ErrorRateReport:
    """Errors / (doses given + doses ordered but not given) x 100 for a facility-local month
    (CMS F759 style; 15 queries, whatever the size of the month).

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

    doses = ScheduledDose.objects.filter(
        who,
        facility=facility,
        due_at__gte=since,
        due_at__lt=until,
        state__in=[DoseState.DOCUMENTED, DoseState.MISSED],
    )
    scheduled = doses.count()
    found = [
        _Found((0, due_at, pk, 0), OMISSION, resident, medication, due_at, None, None, MISSED)
        for pk, due_at, resident, medication in doses.filter(state=DoseState.MISSED)
        .order_by("due_at", "pk")
        .values_list("pk", "due_at", "resident_id", "prescription__medication_id")
    ]

    standing = Administration.objects.filter(who, facility=facility, voided=False).order_by()
    scheduled_records = standing.filter(dose__due_at__gte=since, dose__due_at__lt=until)
    prn_records = standing.filter(
        dose__isnull=True, administered_at__gte=since - lookback, administered_at__lt=until
    )
    amended = Q(pk__in=Amendment.objects.order_by().values("administration_id"))
    # A PRN order with an amended record in the month: its whole series is judged as amended.
    amended_orders = prn_records.filter(amended).values("prescription_id")
    whole = [
        scheduled_records.filter(amended),
        prn_records.filter(prescription_id__in=amended_orders),
    ]
    given = Q(status=AdminStatus.GIVEN) & ~amended
    plain_scheduled = scheduled_records.filter(given)
    plain_prn = prn_records.filter(given).exclude(prescription_id__in=amended_orders)

    fields = ["pk", "administered_at", "resident_id", "prescription__medication_id"]
    fields += ["recorded_by_id"]
    # Scheduled doses given outside their window.
    for pk, at, resident, medication, by, due, opens, closes in plain_scheduled.filter(
        outside_window_q()
    ).values_list(*fields, "dose__due_at", "dose__window_opens_at", "dose__window_closes_at"):
        if rules.outside_window(at, opens, closes):
            detail = f"Window {local_time(opens, tz)}–{local_time(closes, tz)}"
            found.append(
                _Found((1, at, pk, 1), WRONG_TIME, resident, medication, due, at, by, detail)
            )
    # Doses given while a hold parameter may have triggered: the rule decides.
    held_orders = Q(prescription_id__in=HoldParameter.objects.order_by().values("prescription_id"))
    candidates = [
        row
        for records in (plain_scheduled, plain_prn.filter(administered_at__gte=since))
        for row in records.filter(held_orders)
        .filter(hold_candidate_sql())
        .values_list(*fields, "dose__due_at", "vitals", "prescription_id")
    ]
    hold_rules = defaultdict(list)
    for rule in HoldParameter.objects.filter(
        prescription_id__in={row[-1] for row in candidates} or [0]
    ):
        hold_rules[rule.prescription_id].append(rule)
    for pk, at, resident, medication, by, due, vitals, order in candidates:
        trigger = _triggered_hold(hold_rules[order], vitals)
        if trigger:
            found.append(
                _Found((1, at, pk, 2), GIVEN_ON_HOLD, resident, medication, due, at, by, trigger)
            )
    # PRN doses: each order's series, judged by its limits.
    prn_given = 0
    series: dict[int, list[datetime.datetime]] = defaultdict(list)
    limits = ["prescription_id", "prescription__prn_min_hours", "prescription__prn_max_per_24h"]
    prn = plain_prn.order_by("administered_at", "pk").values_list(*fields, *limits)
    for pk, at, resident, medication, by, order, min_hours, most in prn:
        previous = series[order]
        if at >= since:
            prn_given += 1
            problem = _prn_limit_problem(min_hours, most, previous, at, tz)
            if problem:
                found.append(
                    _Found((1, at, pk, 1), PRN_LIMIT, resident, medication, None, at, by, problem)
                )
        previous.append(at)

    prn_given += _judge_whole(whole, since=since, tz=tz, found=found)
    return ErrorRateReport(facility, year, month, scheduled, prn_given, _rows(found, tz))


def _judge_whole(whole: list, *, since, tz, found: list) -> int:
    """Judge the amended records (and the PRN series they belong to) as they stand after their
    amendments; add their errors to `found` and return how many PRN doses they gave."""
    prn_given = 0
    prn_series: dict[int, list[datetime.datetime]] = defaultdict(list)
    # Read in four queries whatever is found (a prefetch asks nothing when nothing is found).
    records = sorted(
        (record for part in whole for record in part.select_related("dose", "prescription")),
        key=lambda record: (record.administered_at, record.pk),
    )
    amendments = defaultdict(list)
    for amendment in Amendment.objects.filter(
        administration_id__in=[r.pk for r in records] or [0]
    ).order_by("amended_at", "pk"):
        amendments[amendment.administration_id].append((amendment.kind, amendment.changes))
    hold_rules = defaultdict(list)
    for rule in HoldParameter.objects.filter(
        prescription_id__in={r.prescription_id for r in records} or [0]
    ):
        hold_rules[rule.prescription_id].append(rule)
    for record in records:
        effective = rules.effective_record(
            status=record.status,
            at=record.administered_at,
            amendments=amendments[record.pk],
            tz=tz,
            statuses=AdminStatus.values,
        )
        status, at, changed_to_given = effective.status, effective.at, effective.changed_to_given
        due = record.dose.due_at if record.dose_id else None
        position = (1, record.administered_at, record.pk)

        def error(kind, detail, seq, record=record, at=at, due=due, position=position):
            found.append(
                _Found(
                    (*position, seq),
                    kind,
                    record.resident_id,
                    record.prescription.medication_id,
                    due,
                    at,
                    record.recorded_by_id,
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
                problem = _prn_limit_problem(
                    order.prn_min_hours, order.prn_max_per_24h, previous, at, tz
                )
                if problem:
                    error(PRN_LIMIT, problem, 1)
            previous.append(at)
        elif rules.outside_window(at, record.dose.window_opens_at, record.dose.window_closes_at):
            opens = local_time(record.dose.window_opens_at, tz)
            closes = local_time(record.dose.window_closes_at, tz)
            error(WRONG_TIME, f"Window {opens}–{closes}", 1)
        triggered = _triggered_hold(hold_rules[record.prescription_id], record.vitals)
        if changed_to_given and record.hold_triggered:
            triggered = triggered or record.hold_triggered
        if triggered and (record.dose_id is not None or at >= since):
            error(GIVEN_ON_HOLD, triggered + (" (amended to given)" if changed_to_given else ""), 2)
    return prn_given


def _rows(found: list[_Found], tz) -> list[ErrorRow]:
    """The errors as the report lists them: in the order judged, then by time, resident and
    medication (3 queries: the residents, the people, the medications)."""
    found.sort(key=lambda f: f.position)
    residents = {
        r.pk: r
        for r in Resident.objects.select_related("unit").filter(
            pk__in={f.resident_id for f in found} or [0]
        )
    }
    people = {
        u.pk: u for u in User.objects.filter(pk__in={f.who_id for f in found if f.who_id} or [0])
    }
    medications = {
        m.pk: str(m)
        for m in Medication.objects.filter(pk__in={f.medication_id for f in found} or [0])
    }
    errors = [
        ErrorRow(
            f.kind,
            residents[f.resident_id],
            medications[f.medication_id],
            f.due_at.astimezone(tz) if f.due_at else None,
            f.at.astimezone(tz) if f.at else None,
            people.get(f.who_id),
            f.detail,
        )
        for f in found
    ]
    errors.sort(key=lambda e: (e.due_at or e.at, e.resident.last_name, e.medication))
    return errors


def _triggered_hold(hold_rules: list, vitals: dict | None) -> str:
    """The hold parameter of the order the record's own vitals trigger, in words, or ""."""
    vitals = vitals or {}
    trigger = rules.triggered_hold(hold_rules, vitals)
    if trigger is None:
        return ""
    return f"{trigger.rule} (reading {vitals[trigger.rule.vital]})"


def _prn_limit_problem(min_hours, max_per_24h, previous: list, at, tz) -> str:
    """Why a PRN dose given at `at` after the doses `previous` (ascending) broke its limits."""
    check = rules.prn_check(given=previous, at=at, min_hours=min_hours, max_per_24h=max_per_24h)
    if check.too_soon:
        hours = (at - check.last_at).total_seconds() / 3600
        return (
            f"{hours:.1f} h after the dose at {check.last_at.astimezone(tz):%m-%d %H:%M}; "
            f"minimum {min_hours.normalize():f} h"
        )
    if check.too_many:
        return f"dose {check.given_in_24h + 1} in 24 hours; maximum {max_per_24h}"
    return ""
