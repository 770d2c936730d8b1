"""Reads the flowsheet pages share: the ranges that apply, a resident's flowsheet (charts,
readings, open exceptions) and a facility's open exceptions. Each owns its query count, the
same at any number of readings or residents."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from markupsafe import Markup, escape

from core.time import local_stamp
from residents.models import Resident

from . import rules
from .charts import CHARTS, Chart, chart, number_text
from .models import VITAL_UNITS, ReadingSource, VitalException, VitalRange, VitalSign

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
ROWS_PER_PAGE = 40
# The open exceptions the flowsheet shows (newest first); the list page has them all.
FLOWSHEET_EXCEPTIONS = 10
SOURCE_WORDS = dict(ReadingSource.choices)


def period_days(raw) -> int:
    """The period a link asked for (7, 30 or 90 days); anything else reads as 30."""
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _words(value: Decimal | None) -> str:
    return f"{value.normalize():f}" if value is not None else ""


def range_words(low: Decimal | None, high: Decimal | None, unit: str) -> str:
    """ "90 to 160 mmHg", "at least 92 %", "no range"."""
    if low is not None and high is not None:
        return f"{_words(low)} to {_words(high)} {unit}"
    if low is not None:
        return f"at least {_words(low)} {unit}"
    if high is not None:
        return f"at most {_words(high)} {unit}"
    return "no range"


@dataclass(frozen=True)
class RangeRow:
    kind: str
    label: str
    facility_range: str
    own_range: str  # the resident's own, or ""
    own_note: str
    own_id: int | None
    low: Decimal | None  # the range that applies
    high: Decimal | None


class _Own(NamedTuple):
    low: Decimal | None
    high: Decimal | None
    pk: int
    note: str


# The facility's ranges (no id) and the resident's own ones, as plain values.
_RANGES = """
    SELECT kind, low, high, NULL::bigint, '' FROM vitals_vitalrange WHERE facility_id = %s
    UNION ALL
    SELECT kind, low, high, id, note FROM vitals_residentvitalrange WHERE resident_id = %s
"""


def ranges_for(resident: Resident) -> list[RangeRow]:
    """Every sign with the facility's range and the resident's own one (one query)."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_RANGES, [resident.facility_id, resident.pk])
        return _range_rows(cursor.fetchall())


def _range_rows(found) -> list[RangeRow]:
    facility, own = {}, {}
    for kind, low, high, pk, note in found:
        if pk is None:
            facility[kind] = (low, high)
        else:
            own[kind] = _Own(low=low, high=high, pk=pk, note=note)
    rows = []
    for sign in VitalSign:
        unit = VITAL_UNITS[sign]
        low, high = facility.get(sign, (None, None))
        mine = own.get(sign)
        rows.append(
            RangeRow(
                kind=sign.value,
                label=sign.label,
                facility_range=range_words(low, high, unit),
                own_range=range_words(mine.low, mine.high, unit) if mine else "",
                own_note=mine.note if mine else "",
                own_id=mine.pk if mine else None,
                low=mine.low if mine else low,
                high=mine.high if mine else high,
            )
        )
    return rows


@dataclass(frozen=True)
class FacilityRangeRow:
    pk: int
    label: str
    range: str
    order: int

    @classmethod
    def of(cls, vital_range: VitalRange) -> "FacilityRangeRow":
        sign = VitalSign(vital_range.kind)
        return cls(
            pk=vital_range.pk,
            label=sign.label,
            range=range_words(vital_range.low, vital_range.high, VITAL_UNITS[sign]),
            order=list(VitalSign).index(sign),
        )


@dataclass(frozen=True)
class TableRow:
    when: str
    by: str
    source: str
    cells_markup: str  # the row's eight cells, a value out of range in bold


TABLE_COLUMNS = tuple((title, VITAL_UNITS[VitalSign(kinds[0])]) for _, title, kinds in CHARTS)


@dataclass
class Flowsheet:
    resident: Resident
    days: int
    charts: list[Chart]
    rows: Page
    ranges: list[RangeRow]
    open_exceptions: list = field(default_factory=list)
    more_exceptions: bool = False  # more wait on the facility's list
    periods: tuple = PERIODS
    columns: tuple = TABLE_COLUMNS


def flowsheet(*, resident: Resident, days: int, now: datetime.datetime, page=None) -> Flowsheet:
    """The resident's readings of the last `days` days as charts and a table (newest first, one
    row per moment and person, paged), the ranges, the open exceptions and whether the latest
    weight is a loss to review: three queries."""
    tz = resident.facility.tz
    start = now - datetime.timedelta(days=days)
    ranges, moments, exceptions = _read(resident=resident, start=start, end=now, tz=tz)
    bands = {row.kind: (row.low, row.high) for row in ranges}
    origin = start.timestamp()
    weights, points = [], defaultdict(list)
    weight = VitalSign.WEIGHT.value  # a plain string: compared once per reading
    for moment in reversed(moments):
        epoch = moment.epoch
        in_period = epoch >= origin  # else an older weight, read for the weight-loss rule only
        for kind, value, out in zip(moment.kinds, moment.values, moment.outs, strict=True):
            if kind == weight:
                weights.append((epoch, value))
            if in_period:
                points[kind].append((epoch, value, out))
    loss = _weight_loss(weights)
    if loss is not None:
        lost_at = loss.at.timestamp()
        points[VitalSign.WEIGHT] = [
            (epoch, value, out or abs(epoch - lost_at) < 0.001)
            for epoch, value, out in points[VitalSign.WEIGHT]
        ]
    x_text: dict[float, str] = {}  # the charts' x coordinates, shared
    charts = [
        chart(
            x_text=x_text,
            key=key,
            title=title,
            kinds=kinds,
            points=points,
            ranges=bands,
            start=start,
            end=now,
            tz=tz,
            days=days,
        )
        for key, title, kinds in CHARTS
    ]
    if loss is not None:
        next(c for c in charts if c.key == "weight").note = (
            f"Re-weigh and review: {loss.loss.words(VITAL_UNITS[VitalSign.WEIGHT])} "
            f"(weighed {local_stamp(loss.at, tz)}; triangle)."
        )
    in_period = [moment for moment in moments if moment.epoch >= origin]
    return Flowsheet(
        resident=resident,
        days=days,
        charts=charts,
        rows=_moment_page(in_period, tz=tz, page=page),
        ranges=ranges,
        open_exceptions=exceptions[:FLOWSHEET_EXCEPTIONS],
        more_exceptions=len(exceptions) > FLOWSHEET_EXCEPTIONS,
    )


@dataclass(frozen=True)
class LatestLoss:
    at: datetime.datetime
    loss: rules.WeightLoss


# How far back the weight-loss rule reads: its longest window and that window's tolerance.
WEIGHT_LOOKBACK = max(
    datetime.timedelta(days=days) + tolerance for days, _, tolerance in rules.WEIGHT_LOSS_RULES
)


def _weight_loss(weights: list[tuple[float, float]]) -> LatestLoss | None:
    """The latest of these weights (epoch seconds, value; oldest first) judged by the
    weight-loss rule against the ones before it."""
    if not weights:
        return None
    judged = [
        (datetime.datetime.fromtimestamp(epoch, datetime.UTC), Decimal(f"{value:.1f}"))
        for epoch, value in weights
    ]
    at, value = judged[-1]
    loss = rules.weight_loss(judged[:-1], at=at, weight=value)
    return LatestLoss(at=at, loss=loss) if loss is not None else None


class _Moment(NamedTuple):
    """The readings one person took together (one moment, one source)."""

    micros: int  # taken at, in microseconds since the epoch (UTC)
    source: str
    by: str
    kinds: list[str]
    values: list[float]
    outs: list[bool]

    @property
    def epoch(self) -> float:
        return self.micros / 1_000_000

    @property
    def taken_at(self) -> datetime.datetime:
        return EPOCH + datetime.timedelta(microseconds=self.micros)


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

# Every reading of the period, and the weights the weight-loss rule reads before it, as the
# table's rows: one per moment, person and source, newest first, each with its readings (kind,
# value, out of range) in one order. The charts and the table share it, so the page reads the
# readings once however many there are; plain numbers (no datetime or Decimal per reading: 90
# days of 8 vitals are thousands). A reading out of range has its exception (one at most),
# found by its reading: an index probe per reading, whatever the planner knows of the tables
# (with the resident's exceptions as a filter, a table never analyzed took a nested loop over
# all of them, 60 times slower). The moments are grouped without ordering inside each (three
# small sorts per moment cost more than all the rest); the arrays stay aligned, being filled
# from the same rows, and a moment's cells are found by sign. The source (a code) sorts
# bytewise, not by the database's collation.
_MOMENTS = """
    SELECT (extract(epoch FROM m.taken_at) * 1000000)::bigint, m.source,
           u.first_name, u.last_name, u.username, m.kinds, m.values, m.outs
    FROM (
        SELECT r.taken_at, r.taken_by_id, r.source COLLATE "C" AS source,
               array_agg(r.kind) AS kinds,
               array_agg(r.value::float8) AS values,
               array_agg(e.id IS NOT NULL) AS outs
        FROM vitals_vitalreading r
        LEFT JOIN vitals_vitalexception e ON e.reading_id = r.id
        WHERE r.resident_id = %(resident)s AND r.taken_at <= %(end)s
          AND (r.taken_at >= %(start)s OR (r.kind = 'weight' AND r.taken_at >= %(weights)s))
        GROUP BY r.taken_at, r.taken_by_id, r.source COLLATE "C"
    ) AS m
    JOIN accounts_user u ON u.id = m.taken_by_id
    ORDER BY m.taken_at DESC, m.taken_by_id, m.source
"""


# The resident's open exceptions the flowsheet shows, newest first, as `exception_rows` words
# them (plain values: the page only reads them).
_EXCEPTIONS = """
    SELECT e.id, e.low, e.high, e.resident_range, r.kind, r.value, r.taken_at,
           u.first_name, u.last_name, u.username
    FROM vitals_vitalexception e
    JOIN vitals_vitalreading r ON r.id = e.reading_id
    JOIN accounts_user u ON u.id = r.taken_by_id
    WHERE e.resident_id = %s
      AND NOT EXISTS (SELECT FROM vitals_exceptionacknowledgement a WHERE a.exception_id = e.id)
    ORDER BY e.created_at DESC, e.id DESC
    LIMIT %s
"""


def _read(
    *, resident: Resident, start, end, tz
) -> tuple[list[RangeRow], list[_Moment], list["ExceptionRow"]]:
    """The ranges, the moments (newest first) and the first open exceptions (one more than the
    page shows): three statements on one cursor."""
    with connection.prepared_cursor() as cursor:
        cursor.execute(_RANGES, [resident.facility_id, resident.pk])
        ranges = _range_rows(cursor.fetchall())
        cursor.execute(
            _MOMENTS,
            {
                "resident": resident.pk,
                "end": end,
                "start": start,
                "weights": min(start, end - WEIGHT_LOOKBACK),
            },
        )
        moments = [
            _Moment(micros, source, f"{first} {last}".strip() or username, kinds, values, outs)
            for micros, source, first, last, username, kinds, values, outs in cursor.fetchall()
        ]
        cursor.execute(_EXCEPTIONS, [resident.pk, FLOWSHEET_EXCEPTIONS + 1])
        exceptions = [
            _exception_row(
                pk=pk,
                resident=resident,
                kind=kind,
                value=value,
                low=low,
                high=high,
                own=own,
                taken_at=taken_at,
                by=f"{first} {last}".strip() or username,
                tz=tz,
            )
            for pk, low, high, own, kind, value, taken_at, first, last, username in (
                cursor.fetchall()
            )
        ]
    return ranges, moments, exceptions


def _moment_page(moments: list[_Moment], *, tz, page) -> Page:
    """One page of the table's rows (`moments` newest first); only its rows are worded."""
    chosen = Paginator(moments, ROWS_PER_PAGE).get_page(page)
    chosen.object_list = [
        TableRow(
            when=local_stamp(moment.taken_at, tz),
            by=moment.by,
            source=SOURCE_WORDS.get(moment.source, moment.source),
            cells_markup=_cells_markup(moment),
        )
        for moment in chosen.object_list
    ]
    return chosen


def _cells_markup(moment: _Moment) -> str:
    """A moment's cell for each chart's signs (blood pressure's two as "120/80", a missing one
    as "–"), a value out of range in bold and said in words: one string per row for the
    template instead of a loop and a test per cell (forty rows a page). The texts are numbers
    made here, escaped all the same."""
    taken = dict(zip(moment.kinds, zip(moment.values, moment.outs, strict=True), strict=True))
    cells = []
    for kinds in CELL_SIGNS:
        found = [taken.get(kind) for kind in kinds]
        if found[0] is None and found[-1] is None:
            cells.append("<td></td>")
            continue
        text = escape("/".join([number_text(t[0]) if t else "–" for t in found]))
        if any(t[1] for t in found if t):
            cells.append(f"<td><strong>{text} out of range</strong></td>")
        else:
            cells.append(f"<td>{text}</td>")
    return Markup("".join(cells))  # each text escaped


# The signs of each of the table's cells (a chart's), as plain strings.
CELL_SIGNS = tuple(tuple(str(kind.value) for kind in kinds) for _, _, kinds in CHARTS)


def open_exceptions(
    *, facility_id: int | None = None, resident: Resident | None = None
) -> QuerySet:
    """The exceptions no nurse has acknowledged yet, newest first, with what the page shows."""
    found = VitalException.objects.filter(acknowledgement__isnull=True).select_related(
        "reading__taken_by", "resident__unit"
    )
    if resident is not None:
        found = found.filter(resident=resident)
    if facility_id is not None:
        found = found.filter(facility_id=facility_id)
    return found.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class ExceptionRow:
    pk: int
    resident: Resident
    reading: str
    range: str
    when: str
    by: str


def exception_rows(exceptions, tz) -> list[ExceptionRow]:
    """What each exception's row reads (no query: `open_exceptions` loaded it)."""
    return [
        _exception_row(
            pk=exception.pk,
            resident=exception.resident,
            kind=exception.reading.kind,
            value=exception.reading.value,
            low=exception.low,
            high=exception.high,
            own=exception.resident_range,
            taken_at=exception.reading.taken_at,
            by=str(exception.reading.taken_by),
            tz=tz,
        )
        for exception in exceptions
    ]


def _exception_row(*, pk, resident, kind, value, low, high, own, taken_at, by, tz) -> ExceptionRow:
    sign = VitalSign(kind)
    unit = VITAL_UNITS[sign]
    whose = "own range" if own else "facility range"
    return ExceptionRow(
        pk=pk,
        resident=resident,
        reading=f"{sign.label} {_words(value)} {unit}",
        range=f"{range_words(low, high, unit)} ({whose})",
        when=local_stamp(taken_at, tz),
        by=by,
    )
