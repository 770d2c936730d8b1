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
from django.db.models import CharField, IntegerField, QuerySet, Value

from core.time import local_stamp
from residents.models import Resident

from . import rules
from .charts import CHARTS, Chart, chart
from .models import (
    VITAL_UNITS,
    ReadingSource,
    ResidentVitalRange,
    VitalException,
    VitalRange,
    VitalSign,
)

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


def ranges_for(resident: Resident) -> list[RangeRow]:
    """Every sign with the facility's range and the resident's own one (one query)."""
    facility, own = {}, {}
    theirs = VitalRange.objects.filter(facility_id=resident.facility_id).values_list(
        "kind",
        "low",
        "high",
        Value(None, output_field=IntegerField()),
        Value("", output_field=CharField()),
    )
    mine = ResidentVitalRange.objects.filter(resident=resident).values_list(
        "kind", "low", "high", "pk", "note"
    )
    for kind, low, high, pk, note in theirs.union(mine, all=True):
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
class Cell:
    text: str
    out: bool = False


@dataclass(frozen=True)
class TableRow:
    when: str
    by: str
    source: str
    cells: tuple[Cell, ...]


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
    weight is a loss to review: six queries."""
    tz = resident.facility.tz
    start = now - datetime.timedelta(days=days)
    ranges = ranges_for(resident)
    bands = {row.kind: (row.low, row.high) for row in ranges}
    found = _points(resident=resident, start=start, end=now)
    loss = _weight_loss([(epoch, value) for kind, epoch, value, _ in found if kind == "weight"])
    lost_at = loss.at.timestamp() if loss is not None else None
    origin = start.timestamp()
    points = defaultdict(list)
    for kind, epoch, value, out in found:
        if epoch < origin:
            continue  # an older weight, read for the weight-loss rule only
        if lost_at is not None and kind == VitalSign.WEIGHT and abs(epoch - lost_at) < 0.001:
            out = True
        points[kind].append((epoch, value, out))
    charts = [
        chart(
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
    shown = exception_rows(open_exceptions(resident=resident)[: FLOWSHEET_EXCEPTIONS + 1], tz)
    return Flowsheet(
        resident=resident,
        days=days,
        charts=charts,
        rows=_moment_page(resident=resident, start=start, end=now, tz=tz, page=page),
        ranges=ranges,
        open_exceptions=shown[:FLOWSHEET_EXCEPTIONS],
        more_exceptions=len(shown) > FLOWSHEET_EXCEPTIONS,
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


_POINTS = """
    SELECT r.kind, extract(epoch FROM r.taken_at)::float8, r.value::float8, e.id IS NOT NULL
    FROM vitals_vitalreading r LEFT JOIN vitals_vitalexception e ON e.reading_id = r.id
    WHERE r.resident_id = %s AND r.taken_at <= %s
      AND (r.taken_at >= %s OR (r.kind = 'weight' AND r.taken_at >= %s))
    ORDER BY r.taken_at, r.id
"""


def _points(*, resident: Resident, start, end) -> list[tuple[str, float, float, bool]]:
    """(kind, epoch seconds, value, out of range) of every reading in the period, and of the
    weights the weight-loss rule reads before it, oldest first: plain numbers straight from the
    database (a chart needs no Decimal or datetime per point, and 90 days of 8 vitals are
    thousands)."""
    with connection.cursor() as cursor:
        cursor.execute(_POINTS, [resident.pk, end, start, min(start, end - WEIGHT_LOOKBACK)])
        return cursor.fetchall()


# The table's rows: the readings taken together (one moment, one person, one page) as one row.
_MOMENTS = """
    SELECT r.taken_at, r.source, u.first_name, u.last_name, u.username,
           array_agg(r.kind ORDER BY r.id), array_agg(r.value ORDER BY r.id),
           array_agg(e.id IS NOT NULL ORDER BY r.id)
    FROM vitals_vitalreading r
    JOIN accounts_user u ON u.id = r.taken_by_id
    LEFT JOIN vitals_vitalexception e ON e.reading_id = r.id
    WHERE r.resident_id = %s AND r.taken_at >= %s AND r.taken_at <= %s
    GROUP BY r.taken_at, r.taken_by_id, r.source, u.first_name, u.last_name, u.username
    ORDER BY r.taken_at DESC, r.taken_by_id, r.source
    LIMIT %s OFFSET %s
"""
_MOMENT_COUNT = """
    SELECT count(DISTINCT (r.taken_at, r.taken_by_id, r.source)) FROM vitals_vitalreading r
    WHERE r.resident_id = %s AND r.taken_at >= %s AND r.taken_at <= %s
"""


def _moment_page(*, resident: Resident, start, end, tz, page) -> Page:
    """One page of the table's rows, newest first (two queries: how many rows, then the page
    read backwards along the resident's time index)."""
    with connection.cursor() as cursor:
        cursor.execute(_MOMENT_COUNT, [resident.pk, start, end])
        total = cursor.fetchone()[0]
    chosen = Paginator(range(total), ROWS_PER_PAGE).get_page(page)
    found = []
    if total:
        with connection.cursor() as cursor:
            offset = chosen.start_index() - 1
            cursor.execute(_MOMENTS, [resident.pk, start, end, ROWS_PER_PAGE, offset])
            found = cursor.fetchall()
    rows = []
    for taken_at, source, first, last, username, kinds, values, outs in found:
        taken = {kind: (value, out) for kind, value, out in zip(kinds, values, outs, strict=True)}
        rows.append(
            TableRow(
                when=local_stamp(taken_at, tz),
                by=f"{first} {last}".strip() or username,
                source=SOURCE_WORDS.get(source, source),
                cells=tuple(_cell(taken, kinds) for _, _, kinds in CHARTS),
            )
        )
    chosen.object_list = rows
    return chosen


def _cell(values: dict, kinds: tuple[str, ...]) -> Cell:
    taken = [values.get(kind) for kind in kinds]
    if all(t is None for t in taken):
        return Cell("")
    text = "/".join(_words(t[0]) if t else "–" for t in taken)
    out = any(t and t[1] for t in taken)
    return Cell(f"{text} out of range" if out else text, out)


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
    rows = []
    for exception in exceptions:
        reading = exception.reading
        unit = VITAL_UNITS[VitalSign(reading.kind)]
        whose = "own range" if exception.resident_range else "facility range"
        rows.append(
            ExceptionRow(
                pk=exception.pk,
                resident=exception.resident,
                reading=f"{reading.get_kind_display()} {_words(reading.value)} {unit}",
                range=f"{range_words(exception.low, exception.high, unit)} ({whose})",
                when=local_stamp(reading.taken_at, tz),
                by=str(reading.taken_by),
            )
        )
    return rows
