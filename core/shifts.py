"""Shift boundaries: which shift an instant falls in, and a shift's UTC bounds.

A pure module (no ORM, no clock), like `core.schedule`. Shifts are named by the local day they
start on and their name: the night shift of 2 December runs from 23:00 on the 2nd to 07:00 on
the 3rd. Bounds are the local wall-clock boundaries turned into UTC with `fold=0`, so a day with a
DST change gives a shift of 7 or 9 hours, never a gap or an overlap between shifts.

The facility's own shift times come later (facility policy); until then every facility uses
`DEFAULT_SHIFTS`.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# (name, the person's word for it, local start time), in the order of a day; each shift ends
# where the next one starts, the last one at the first one's start the next day.
DEFAULT_SHIFTS: tuple[tuple[str, str, datetime.time], ...] = (
    ("day", "Day", datetime.time(7, 0)),
    ("evening", "Evening", datetime.time(15, 0)),
    ("night", "Night", datetime.time(23, 0)),
)
SHIFT_NAMES = tuple(name for name, _, _ in DEFAULT_SHIFTS)


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

    def __str__(self) -> str:
        return (
            f"{self.label} shift {self.day:%a %Y-%m-%d}, "
            f"{self.local_start:%H:%M}–{self.local_end:%H:%M}"
        )


def _utc(day: datetime.date, at: datetime.time, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=tz).astimezone(datetime.UTC)


def shift_on(day: datetime.date, name: str, tz: ZoneInfo) -> Shift:
    """The shift `name` that starts on the local `day`; ValueError for an unknown name."""
    for index, (shift_name, label, start) in enumerate(DEFAULT_SHIFTS):
        if shift_name != name:
            continue
        following = index + 1 < len(DEFAULT_SHIFTS)
        end = DEFAULT_SHIFTS[index + 1][2] if following else DEFAULT_SHIFTS[0][2]
        end_day = day if following else day + datetime.timedelta(days=1)
        return Shift(name, label, day, _utc(day, start, tz), _utc(end_day, end, tz), start, end)
    raise ValueError(f"No shift is named {name!r}.")


def shift_at(moment: datetime.datetime, tz: ZoneInfo) -> Shift:
    """The shift containing the aware instant `moment` (starts_at <= moment < ends_at)."""
    if moment.tzinfo is None:
        raise ValueError("shift_at needs an aware datetime.")
    local_day = moment.astimezone(tz).date()
    # A shift that started the day before (the night) may still be running.
    for day in (local_day - datetime.timedelta(days=1), local_day):
        for name in SHIFT_NAMES:
            shift = shift_on(day, name, tz)
            if shift.starts_at <= moment < shift.ends_at:
                return shift
    raise AssertionError("the shifts cover every instant")  # pragma: no cover


def shift_after(shift: Shift, tz: ZoneInfo) -> Shift:
    """The shift that starts when `shift` ends."""
    return shift_at(shift.ends_at, tz)


def parse_shift_key(key: str, tz: ZoneInfo) -> Shift | None:
    """The shift a `Shift.key` names, or None for anything else."""
    day, _, name = (key or "").partition("/")
    try:
        return shift_on(datetime.date.fromisoformat(day), name, tz)
    except (ValueError, OverflowError):  # not a date, or a day at the end of the calendar
        return None
