"""Shift boundaries: which shift an instant falls in, and a shift's UTC bounds.

A pure module (no ORM, no clock), like `core.schedule`. Shifts are facility policy: a
`ShiftPolicy` is the facility's zone and the local start times of its three shifts (day, evening,
night, in a day's order; `accounts.Facility.shifts` makes it). Shifts are named by the local day
they start on and their name: the night shift of 2 December runs from 23:00 on the 2nd to 07:00 on
the 3rd. Bounds are the local wall-clock boundaries turned into UTC with `fold=0`, so a day with a
DST change gives a shift of 7 or 9 hours, never a gap or an overlap between shifts.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHIFT_NAMES: tuple[str, ...] = ("day", "evening", "night")
SHIFT_LABELS: dict[str, str] = {"day": "Day", "evening": "Evening", "night": "Night"}
DEFAULT_STARTS: tuple[datetime.time, ...] = (
    datetime.time(7, 0),
    datetime.time(15, 0),
    datetime.time(23, 0),
)
# (name, the person's word for it, default local start time), in the order of a day; each shift
# ends where the next one starts, the last one at the first one's start the next day.
DEFAULT_SHIFTS: tuple[tuple[str, str, datetime.time], ...] = tuple(
    (name, SHIFT_LABELS[name], start)
    for name, start in zip(SHIFT_NAMES, DEFAULT_STARTS, strict=True)
)


def starts_problem(starts: tuple[datetime.time, ...]) -> tuple[int, str] | None:
    """Why three start times cannot be a facility's shifts, as (index of the time to fix, the
    message), or None when they can: in a day's order (day, evening, night), each shift at least
    an hour long (the night runs to the next day's start), so together they cover the day."""
    if len(starts) != len(SHIFT_NAMES):
        return 0, "A facility has three shifts: day, evening and night."
    minutes = [t.hour * 60 + t.minute for t in starts]
    if any(t.second or t.microsecond for t in starts):
        return 0, "Give shift times in hours and minutes."
    for index in (1, 2):
        if minutes[index] <= minutes[index - 1]:
            before = SHIFT_LABELS[SHIFT_NAMES[index - 1]].lower()
            return index, (
                f"The {SHIFT_LABELS[SHIFT_NAMES[index]].lower()} shift must start after the "
                f"{before} shift ({starts[index - 1]:%H:%M})."
            )
        if minutes[index] - minutes[index - 1] < 60:
            return index, (
                f"The {SHIFT_LABELS[SHIFT_NAMES[index - 1]].lower()} shift would be shorter "
                "than an hour."
            )
    if minutes[0] + 24 * 60 - minutes[2] < 60:
        return 2, "The night shift would be shorter than an hour."
    return None


@dataclass(frozen=True)
class ShiftPolicy:
    """A facility's clock and the local start times of its day, evening and night shifts."""

    tz: ZoneInfo
    starts: tuple[datetime.time, ...] = DEFAULT_STARTS

    def __post_init__(self):
        problem = starts_problem(self.starts)
        if problem is not None:
            raise ValueError(problem[1])


@dataclass(frozen=True)
class Shift:
    name: str  # "day", "evening", "night"
    label: str  # "Day"
    day: datetime.date  # the local day the shift starts on
    starts_at: datetime.datetime  # UTC
    ends_at: datetime.datetime  # UTC, exclusive
    local_start: datetime.time
    local_end: datetime.time

    @property
    def key(self) -> str:
        """ "2026-12-02/night": the shift as one value (a form's choice)."""
        return f"{self.day.isoformat()}/{self.name}"

    @property
    def duration(self) -> datetime.timedelta:
        """The real length: 7 or 9 hours for an 8-hour shift across a DST change."""
        return self.ends_at - self.starts_at

    def __str__(self) -> str:
        return (
            f"{self.label} shift {self.day:%a %Y-%m-%d}, "
            f"{self.local_start:%H:%M}–{self.local_end:%H:%M}"
        )


def _utc(day: datetime.date, at: datetime.time, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=tz).astimezone(datetime.UTC)


def shift_on(day: datetime.date, name: str, policy: ShiftPolicy) -> Shift:
    """The shift `name` that starts on the local `day`; ValueError for an unknown name."""
    if name not in SHIFT_NAMES:
        raise ValueError(f"No shift is named {name!r}.")
    index = SHIFT_NAMES.index(name)
    start = policy.starts[index]
    following = index + 1 < len(SHIFT_NAMES)
    end = policy.starts[index + 1] if following else policy.starts[0]
    end_day = day if following else day + datetime.timedelta(days=1)
    tz = policy.tz
    return Shift(
        name, SHIFT_LABELS[name], day, _utc(day, start, tz), _utc(end_day, end, tz), start, end
    )


def shift_at(moment: datetime.datetime, policy: ShiftPolicy) -> Shift:
    """The shift containing the aware instant `moment` (starts_at <= moment < ends_at)."""
    if moment.tzinfo is None:
        raise ValueError("shift_at needs an aware datetime.")
    local_day = moment.astimezone(policy.tz).date()
    # A shift that started the day before (the night) may still be running.
    for day in (local_day - datetime.timedelta(days=1), local_day):
        for name in SHIFT_NAMES:
            shift = shift_on(day, name, policy)
            if shift.starts_at <= moment < shift.ends_at:
                return shift
    raise AssertionError("the shifts cover every instant")  # pragma: no cover


def shift_after(shift: Shift, policy: ShiftPolicy) -> Shift:
    """The shift that starts when `shift` ends."""
    return shift_at(shift.ends_at, policy)


def shift_before(shift: Shift, policy: ShiftPolicy) -> Shift:
    """The shift that ends when `shift` starts."""
    return shift_at(shift.starts_at - datetime.timedelta(microseconds=1), policy)


def parse_shift_key(key: str, policy: ShiftPolicy) -> Shift | None:
    """The shift a `Shift.key` names, or None for anything else."""
    day, _, name = (key or "").partition("/")
    try:
        return shift_on(datetime.date.fromisoformat(day), name, policy)
    except (ValueError, OverflowError):  # not a date, or a day at the end of the calendar
        return None
