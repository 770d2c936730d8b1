"""Dose schedules: when, in real time, a medication order falls due.

A pure module -- no ORM, no Django, no clock. Callers pass in the schedule, the resident's
time zone and the window they care about, and get back UTC instants. Everything here is
deterministic, so it is safe to call from request handlers, Celery jobs and tests alike.

Daylight-saving rules (they matter: a missed or doubled dose is a medication error):

* A wall-clock time that does not exist on a spring-forward day (it falls in the gap) is given
  that many minutes after the gap's start, as the clock then reads: 02:30 on the New York
  spring-forward day is given at 03:30 EDT (07:30 UTC).
* A wall-clock time that happens twice on a fall-back day is given once, at its first
  occurrence (``fold=0``): 01:30 on the New York fall-back day is given at 01:30 EDT.
* Two dose times that land on the same instant (02:30 and 03:30 on spring-forward day) give
  one dose, never two.
"""

from __future__ import annotations

import calendar
import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DoseSchedule", "describe", "first_day_read", "occurrences", "shared_start"]

_UTC = datetime.UTC
_ONE_DAY = datetime.timedelta(days=1)
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class DoseSchedule:
    """When an order is due, in the resident's local wall-clock time.

    ``times`` are naive local wall-clock times (seconds are kept, but ``describe`` shows
    HH:MM). The order runs on local days ``start`` .. ``end`` inclusive (``end=None`` means
    open-ended). At most one recurrence kind may be chosen; with none, the order is daily:

    * ``weekdays``: ISO weekdays, 1 = Monday .. 7 = Sunday.
    * ``every_n_days``: 2 = every other day, counted from ``start`` (``start`` is a dose day).
    * ``month_days``: days of the month 1..31; a day past the month's end falls on the
      month's last day (31 -> 30 April, 29/30/31 -> 28 February in a common year).

    An invalid schedule cannot be built: ``__post_init__`` raises ``ValueError``. Iterables
    passed for ``times``/``weekdays``/``month_days`` are normalised to tuple/frozenset so the
    schedule stays hashable.
    """

    times: tuple[datetime.time, ...]
    start: datetime.date
    end: datetime.date | None = None
    weekdays: frozenset[int] | None = None
    every_n_days: int = 1
    month_days: frozenset[int] | None = None

    def __post_init__(self) -> None:
        # Normalise container types (a caller passing a list must not get an unhashable,
        # mutable "frozen" schedule). object.__setattr__ is the documented way in a frozen
        # dataclass.
        if not isinstance(self.times, tuple):
            object.__setattr__(self, "times", tuple(self.times))
        if self.weekdays is not None and not isinstance(self.weekdays, frozenset):
            object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if self.month_days is not None and not isinstance(self.month_days, frozenset):
            object.__setattr__(self, "month_days", frozenset(self.month_days))
        _validate(self)


def _validate(schedule: DoseSchedule) -> None:
    """Raise ``ValueError`` if ``schedule`` cannot be turned into dose instants.

    Cheap (a handful of comparisons), so ``occurrences`` re-runs it: a schedule mutated
    behind the frozen dataclass's back must still fail loudly, not silently drop doses.
    """
    if not schedule.times:
        raise ValueError("A dose schedule needs at least one dose time.")
    for t in schedule.times:
        if not isinstance(t, datetime.time):
            raise ValueError(f"Dose times must be datetime.time values, got {t!r}.")
        if t.tzinfo is not None:
            raise ValueError(
                f"Dose time {t!r} must be a naive local wall-clock time; "
                "the time zone is passed to occurrences()."
            )
    if not isinstance(schedule.start, datetime.date) or isinstance(
        schedule.start, datetime.datetime
    ):
        raise ValueError(f"Schedule start must be a date, got {schedule.start!r}.")
    if schedule.end is not None and (
        not isinstance(schedule.end, datetime.date) or isinstance(schedule.end, datetime.datetime)
    ):
        raise ValueError(f"Schedule end must be a date or None, got {schedule.end!r}.")

    n = schedule.every_n_days
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"every_n_days must be a whole number of at least 1, got {n!r}.")

    kinds = [
        name
        for name, chosen in (
            ("weekdays", schedule.weekdays is not None),
            ("every_n_days", n > 1),
            ("month_days", schedule.month_days is not None),
        )
        if chosen
    ]
    if len(kinds) > 1:
        raise ValueError(
            f"Choose at most one of weekdays, every_n_days > 1 and month_days; got {kinds}."
        )

    if schedule.weekdays is not None:
        # An empty set is "chosen" but would never give a dose: almost surely a data-entry
        # slip, and silently never dosing is the worst outcome, so refuse it.
        if not schedule.weekdays:
            raise ValueError("weekdays must name at least one day (1 = Monday .. 7 = Sunday).")
        bad = _out_of_range(schedule.weekdays, 1, 7)
        if bad:
            raise ValueError(f"weekdays must be ISO weekdays 1 (Monday) .. 7 (Sunday); got {bad}.")
    if schedule.month_days is not None:
        if not schedule.month_days:
            raise ValueError("month_days must name at least one day of the month (1..31).")
        bad = _out_of_range(schedule.month_days, 1, 31)
        if bad:
            raise ValueError(f"month_days must be days of the month 1..31; got {bad}.")


def _out_of_range(values: Iterable[object], low: int, high: int) -> list[object]:
    """Values that are not ints in ``low..high`` (bools count as bad), in a stable order."""
    bad = [
        v for v in values if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high
    ]
    return sorted(bad, key=repr)


def _is_dose_day(schedule: DoseSchedule, day: datetime.date) -> bool:
    """Whether the recurrence rule picks local ``day`` (the start/end range is checked apart)."""
    if schedule.weekdays is not None:
        return day.isoweekday() in schedule.weekdays
    if schedule.every_n_days > 1:
        return (day - schedule.start).days % schedule.every_n_days == 0
    if schedule.month_days is not None:
        if day.day in schedule.month_days:
            return True
        # Days past this month's end (e.g. 31 in April) fall on its last day.
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == last and max(schedule.month_days) > last
    return True


def occurrences(
    schedule: DoseSchedule,
    tz: zoneinfo.ZoneInfo,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[datetime.datetime]:
    """Every dose instant t with start <= t < end, as aware UTC datetimes, ascending, no repeats.

    ``tz`` is the zone the schedule's wall-clock times and dates are read in (the resident's
    home). ``start`` and ``end`` may be aware datetimes in any zone; naive ones raise
    ``ValueError``, as does an invalid schedule. An empty or reversed window gives ``[]``.

    Cost is proportional to the number of local days the window spans (about 4 for a 48 h
    window), so it is cheap enough to call for every order on every scheduler tick.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"Window start must be an aware datetime, got naive {start!r}.")
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError(f"Window end must be an aware datetime, got naive {end!r}.")
    _validate(schedule)
    if start >= end:
        return []

    # Widen by a day each side: a local day's doses can spill over UTC midnight and a gap
    # time can be pushed past local midnight, so the window's edge days in `tz` are not
    # enough on their own. The exact start <= t < end filter below trims the extra.
    first_day = first_day_read(tz, start)
    last_day = end.astimezone(tz).date() + _ONE_DAY
    first_day = max(first_day, schedule.start)
    if schedule.end is not None:
        last_day = min(last_day, schedule.end)

    # fold=0 everywhere: it is what gives the first occurrence of a repeated time and the
    # "minutes after the gap's start" reading of a skipped one (PEP 495 semantics).
    times = [t.replace(fold=0) if t.fold else t for t in schedule.times]
    combine = datetime.datetime.combine
    found: set[datetime.datetime] = set()
    day = first_day
    while day <= last_day:
        if _is_dose_day(schedule, day):
            for t in times:
                instant = combine(day, t, tzinfo=tz).astimezone(_UTC)
                if start <= instant < end:
                    found.add(instant)
        day += _ONE_DAY
    # The set removes doses that collapse onto one instant (gap times); sorting restores order.
    return sorted(found)


def first_day_read(tz: zoneinfo.ZoneInfo, start: datetime.datetime) -> datetime.date:
    """The first local day whose doses ``occurrences`` looks at for a window from ``start``.

    A day before the window's own first local day: its late doses can fall inside the window.
    """
    return start.astimezone(tz).date() - _ONE_DAY


def shared_start(
    start: datetime.date, every_n_days: int, first_day: datetime.date
) -> datetime.date:
    """A schedule start no later than ``first_day`` that gives the same doses as ``start``.

    For every window whose ``first_day_read`` is ``first_day`` or later, a schedule that begins
    on the returned day has exactly the occurrences of one that begins on ``start``: a start
    before the first day read only clamps days that are never read, except for an every-n-days
    schedule, whose dose days keep their phase (the returned day is a whole number of periods
    after ``start``). Orders that differ only in the day they began thus share one expansion.

    ``every_n_days`` below 2 reads as daily. Passing a schedule's stored period when it is not
    an every-n-days schedule is harmless: its start is still moved to a day that is never read.
    """
    if start >= first_day:
        return start
    period = every_n_days if every_n_days > 1 else 1
    return first_day - datetime.timedelta(days=(first_day - start).days % period)


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe(schedule: DoseSchedule) -> str:
    """A short natural-language reading of the schedule, e.g. "08:00 and 20:00, every day".

    Shows times (HH:MM, ascending, duplicates once) and the recurrence; it does not mention
    the schedule's start/end dates, which callers show separately if they want them.
    """
    _validate(schedule)
    times = _join(sorted({t.strftime("%H:%M") for t in schedule.times}))
    if schedule.weekdays is not None:
        days = ", ".join(_WEEKDAY_NAMES[d - 1] for d in sorted(schedule.weekdays))
        return f"{times} on {days}"
    if schedule.every_n_days > 1:
        return f"{times} every {schedule.every_n_days} days"
    if schedule.month_days is not None:
        month_days = sorted(schedule.month_days)
        noun = "day" if len(month_days) == 1 else "days"
        return f"{times} on {noun} {_join([str(d) for d in month_days])} of the month"
    return f"{times}, every day"
