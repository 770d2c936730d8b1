"""Reads the flowsheet pages share: the ranges that apply, a resident's flowsheet (charts,
readings, open exceptions) and a facility's open exceptions. Each owns its query count, the
same at any number of readings or residents."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

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
    VitalReading,
    VitalSign,
)

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
ROWS_PER_PAGE = 40
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


def ranges_for(resident: Resident) -> list[RangeRow]:
    """Every sign with the facility's range and the resident's own one (two queries)."""
    facility = {
        kind: (low, high)
        for kind, low, high in VitalRange.objects.filter(
            facility_id=resident.facility_id
        ).values_list("kind", "low", "high")
    }
    own = {r.kind: r for r in ResidentVitalRange.objects.filter(resident=resident)}
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
    readings = list(
        VitalReading.objects.filter(resident=resident, taken_at__gte=start, taken_at__lte=now)
        .order_by("taken_at", "pk")
        .values_list(
            "kind",
            "value",
            "taken_at",
            "source",
            "taken_by__first_name",
            "taken_by__last_name",
            "taken_by__username",
            "exception__id",
        )
    )
    loss = latest_weight_loss(resident=resident, now=now)
    points = defaultdict(list)
    moments = {}
    for kind, value, taken_at, source, first, last, username, exception in readings:
        out = exception is not None or (
            loss is not None and kind == VitalSign.WEIGHT and taken_at == loss.at
        )
        points[kind].append((taken_at, value, out))
        by = f"{first} {last}".strip() or username
        moments.setdefault((taken_at, by, source), {})[kind] = (value, exception is not None)
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
    rows = [
        TableRow(
            when=local_stamp(taken_at, tz),
            by=by,
            source=SOURCE_WORDS.get(source, source),
            cells=tuple(_cell(values, kinds) for _, _, kinds in CHARTS),
        )
        for (taken_at, by, source), values in reversed(moments.items())
    ]
    return Flowsheet(
        resident=resident,
        days=days,
        charts=charts,
        rows=Paginator(rows, ROWS_PER_PAGE).get_page(page),
        ranges=ranges,
        open_exceptions=exception_rows(open_exceptions(resident=resident), tz),
    )


@dataclass(frozen=True)
class LatestLoss:
    at: datetime.datetime
    loss: rules.WeightLoss


def latest_weight_loss(*, resident: Resident, now: datetime.datetime) -> LatestLoss | None:
    """The resident's latest weight judged by the weight-loss rule against the ones before it
    (one query: the weights of the longest window)."""
    longest = max(days for days, _, _ in rules.WEIGHT_LOSS_RULES)
    widest = max(tolerance for _, _, tolerance in rules.WEIGHT_LOSS_RULES)
    weights = list(
        VitalReading.objects.filter(
            resident=resident,
            kind=VitalSign.WEIGHT,
            taken_at__gte=now - datetime.timedelta(days=longest) - widest,
            taken_at__lte=now,
        )
        .order_by("taken_at", "pk")
        .values_list("taken_at", "value")
    )
    if not weights:
        return None
    at, value = weights[-1]
    loss = rules.weight_loss(weights[:-1], at=at, weight=value)
    return LatestLoss(at=at, loss=loss) if loss is not None else None


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
