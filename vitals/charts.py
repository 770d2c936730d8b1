"""The flowsheet's trend charts as drawing instructions (coordinates, labels), computed here
and drawn by `templates/vitals/_chart.html` as inline SVG: no JavaScript, black and grey
strokes that print, the range band shaded and each exception a triangle (a shape, not a
colour)."""

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from .models import VITAL_UNITS, VitalSign

WIDTH, HEIGHT = 640, 190
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 12, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
DOTS_UP_TO = 60  # points per line drawn as dots too; more read as a line


@dataclass(frozen=True)
class Line:
    label: str
    points: str  # "x,y x,y ..." for <polyline>
    dashed: bool
    dots: str = ""  # a <path> of a small square at each reading, when few
    triangles: str = ""  # a <path> of a triangle at each reading out of range


# Coordinates are strings made here: a template would localize each number it prints, which
# costs more than the whole chart's arithmetic.
@dataclass(frozen=True)
class Band:
    label: str
    y: str
    height: str


@dataclass(frozen=True)
class Tick:
    at: str
    label: str


@dataclass
class Chart:
    key: str
    title: str
    unit: str
    description: str
    count: int = 0
    note: str = ""  # a finding beside the chart (the weight loss to review)
    lines: list[Line] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    width: str = str(WIDTH)
    height: str = str(HEIGHT)
    left: str = str(LEFT)
    plot_width: str = str(PLOT_W)
    plot_right: str = str(WIDTH - RIGHT)
    plot_bottom: str = str(HEIGHT - BOTTOM)
    top: str = str(TOP)
    tick_left: str = str(LEFT - 4)  # where a y tick starts and its label ends
    label_right: str = str(LEFT - 6)
    tick_bottom: str = str(HEIGHT - BOTTOM + 4)  # where an x tick ends and its label sits
    label_top: str = str(HEIGHT - 8)

    # The axes' ticks and the key as finished markup and words: made once per chart here, not
    # a dozen template lookups per tick (the flowsheet draws eight charts on every view). Every
    # part is a number or a date made in this module, escaped all the same.
    @property
    def y_axis(self) -> str:
        return Markup(  # each part escaped
            "".join(
                f'<line x1="{self.tick_left}" y1="{at}" x2="{self.left}" y2="{at}" stroke="#000"/>'
                f'<text x="{self.label_right}" y="{at}" text-anchor="end" '
                f'dominant-baseline="middle" fill="#000">{label}</text>'
                for at, label in ((escape(t.at), escape(t.label)) for t in self.y_ticks)
            )
        )

    @property
    def x_axis(self) -> str:
        last = len(self.x_ticks) - 1
        return Markup(  # each part escaped
            "".join(
                f'<line x1="{at}" y1="{self.plot_bottom}" x2="{at}" y2="{self.tick_bottom}" '
                f'stroke="#000"/><text x="{at}" y="{self.label_top}" text-anchor="'
                f'{"start" if i == 0 else "end" if i == last else "middle"}" fill="#000">'
                f"{label}</text>"
                for i, (at, label) in enumerate(
                    (escape(t.at), escape(t.label)) for t in self.x_ticks
                )
            )
        )

    @property
    def key_words(self) -> str:
        """Which line is which, when there are two."""
        if len(self.lines) < 2:
            return ""
        return "".join(
            f"{line.label}: {'dashed line' if line.dashed else 'solid line'}. "
            for line in self.lines
        )


# One chart per vital; blood pressure is one chart with both its numbers.
CHARTS = (
    ("temperature", "Temperature", (VitalSign.TEMPERATURE,)),
    ("pulse", "Pulse", (VitalSign.PULSE,)),
    ("respirations", "Respirations", (VitalSign.RESPIRATIONS,)),
    ("bp", "Blood pressure", (VitalSign.SYSTOLIC_BP, VitalSign.DIASTOLIC_BP)),
    ("spo2", "SpO2", (VitalSign.SPO2,)),
    ("blood_glucose", "Blood glucose", (VitalSign.BLOOD_GLUCOSE,)),
    ("pain", "Pain", (VitalSign.PAIN,)),
    ("weight", "Weight", (VitalSign.WEIGHT,)),
)


def number_text(value: Decimal | float) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return f"{value:.1f}".removesuffix(".0")


def chart(
    *,
    key: str,
    title: str,
    kinds: tuple[str, ...],
    points: dict[str, list[tuple[float, float, bool]]],
    ranges: dict[str, tuple[Decimal | None, Decimal | None]],
    start: datetime.datetime,
    end: datetime.datetime,
    tz: ZoneInfo,
    days: int,
    x_text: dict[float, str] | None = None,
) -> Chart:
    """A chart of `kinds` between `start` and `end`: `points[kind]` are (epoch seconds, value,
    out of range) in time order, `ranges[kind]` the band (low, high). `x_text`: the x
    coordinates already made for this period, shared by the period's charts."""
    x_text = {} if x_text is None else x_text
    unit = VITAL_UNITS[VitalSign(kinds[0])]
    # Each sign's readings as columns (epochs, values, outs): counted, bounded and drawn by
    # the builtins over whole columns, not a Python step per reading for each question.
    series = [_Series.of(kind, points.get(kind)) for kind in kinds]
    count = sum(len(s.values) for s in series)
    exceptions = sum(sum(s.outs) for s in series)
    described = _describe(title, series, ranges, unit, days, exceptions)
    drawn = Chart(key=key, title=title, unit=unit, description=described, count=count)
    if not count:
        return drawn
    bounds = [float(b) for kind in kinds for b in ranges.get(kind, (None, None)) if b is not None]
    low = min([min(s.values) for s in series if s.values] + bounds)
    high = max([max(s.values) for s in series if s.values] + bounds)
    pad = max((high - low) * 0.08, 1.0)
    low, high = low - pad, high + pad
    origin, span = start.timestamp(), (end - start).total_seconds()

    def x(epoch: float) -> float:
        return round(LEFT + (epoch - origin) / span * PLOT_W, 1)

    rise = high - low

    def y(value) -> float:
        return round(TOP + (high - float(value)) / rise * PLOT_H, 1)

    for index, s in enumerate(series):
        band_low, band_high = ranges.get(s.kind, (None, None))
        if band_low is not None or band_high is not None:
            top = y(band_high) if band_high is not None else TOP
            bottom = y(band_low) if band_low is not None else TOP + PLOT_H
            drawn.bands.append(
                Band(label=VitalSign(s.kind).label, y=f"{top:.1f}", height=f"{bottom - top:.1f}")
            )
        # Each coordinate as text, made once per instant (the charts share `x_text`: a set of
        # vitals is taken together) and once per value; "%.1f" rounds as round(v, 1) does.
        x_text.update(
            {
                at: f"{LEFT + (at - origin) / span * PLOT_W:.1f}"
                for at in s.epochs
                if at not in x_text
            }
        )
        y_text = {value: f"{TOP + (high - value) / rise * PLOT_H:.1f}" for value in set(s.values)}
        xs = [x_text[at] for at in s.epochs]
        ys = [y_text[value] for value in s.values]
        # The marks around a point are drawn relative to it (the path's lower-case commands):
        # a 4 x 4 square for a dot, a triangle 12 wide and 11 high for a reading out of range.
        dots = ""
        if len(xs) <= DOTS_UP_TO:
            dots = " ".join([f"M{tx} {ty}m-2-2h4v4h-4Z" for tx, ty in zip(xs, ys, strict=True)])
        triangles = " ".join(
            [f"M{tx} {ty}m0-6l6 11h-12Z" for tx, ty, out in zip(xs, ys, s.outs, strict=True) if out]
        )
        drawn.lines.append(
            Line(
                label=VitalSign(s.kind).label,
                points=" ".join([f"{tx},{ty}" for tx, ty in zip(xs, ys, strict=True)]),
                dashed=index > 0,
                dots=dots,
                triangles=triangles,
            )
        )
    step = _nice_step((high - low) / 4)
    first = math.ceil(low / step) * step
    drawn.y_ticks = [
        Tick(at=f"{y(first + step * i):.1f}", label=number_text(round(first + step * i, 1)))
        for i in range(int((high - first) / step) + 1)
    ]
    drawn.x_ticks = [
        Tick(
            at=f"{x((start + (end - start) * i / 4).timestamp()):.1f}",
            label=(start + (end - start) * i / 4).astimezone(tz).date().isoformat(),
        )
        for i in range(5)
    ]
    return drawn


class _Series(NamedTuple):
    """One sign's readings in time order, as columns."""

    kind: str
    epochs: tuple[float, ...]
    values: tuple[float, ...]
    outs: tuple[bool, ...]

    @classmethod
    def of(cls, kind: str, points: list[tuple[float, float, bool]] | None) -> "_Series":
        if not points:
            return cls(kind, (), (), ())
        return cls(kind, *zip(*points, strict=True))


def _nice_step(rough: float) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten, at least `rough`: round tick labels."""
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)


def _describe(title, series, ranges, unit, days, exceptions) -> str:
    """What a screen reader says instead of the picture."""
    parts = []
    for s in series:
        label = VitalSign(s.kind).label if len(series) > 1 else title
        if not s.values:
            parts.append(f"{label}: no readings")
            continue
        count = len(s.values)
        low, high = ranges.get(s.kind, (None, None))
        band = (
            f", range {number_text(low) if low is not None else 'any'} to "
            f"{number_text(high) if high is not None else 'any'}"
            if low is not None or high is not None
            else ""
        )
        parts.append(
            f"{label}: {count} reading{'s' if count != 1 else ''} from "
            f"{number_text(min(s.values))} to {number_text(max(s.values))} {unit}, latest "
            f"{number_text(s.values[-1])}{band}"
        )
    marked = (
        f"; {exceptions} out of range, marked with triangles"
        if exceptions
        else "; none out of range"
    )
    return f"{title} over the last {days} days. " + "; ".join(parts) + marked + "."
