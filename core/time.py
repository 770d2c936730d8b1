"""Facility time: a person reads the facility's wall clock; the database stores UTC.

Pure helpers (no ORM, no clock) that turn instants into the facility's local words and local
days into UTC bounds. Every page, PDF, CSV and alert message formats through these.
"""

import datetime
from zoneinfo import ZoneInfo

# The one style (pages, PDFs, CSVs, messages); the template filters in
# core/templatetags/facility_time.py use the same formats.
DATE_FORMAT = "%Y-%m-%d"
CLOCK_FORMAT = "%H:%M"
STAMP_FORMAT = f"{DATE_FORMAT} {CLOCK_FORMAT}"
WEEKDAY_FORMAT = f"%a {DATE_FORMAT}"


def local_day_bounds(
    day: datetime.date, tz: ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    """The UTC instants at which a local day starts and the next one starts."""
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=tz).astimezone(datetime.UTC)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), tzinfo=tz
    ).astimezone(datetime.UTC)
    return start, end


def local_days_bounds(
    start: datetime.date, end: datetime.date, tz: ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    """UTC [from, to) of the local days start..end, both included."""
    return local_day_bounds(start, tz)[0], local_day_bounds(end, tz)[1]


def local_month_bounds(
    year: int, month: int, tz: ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    """UTC [from, to) of a local calendar month."""
    first = datetime.date(year, month, 1)
    after = datetime.date(year + month // 12, month % 12 + 1, 1)
    return local_day_bounds(first, tz)[0], local_day_bounds(after, tz)[0]


def local_time(moment: datetime.datetime, tz: ZoneInfo) -> str:
    """ "14:05": the facility's clock time of an instant."""
    return moment.astimezone(tz).strftime(CLOCK_FORMAT)


def local_day_time(moment: datetime.datetime, tz: ZoneInfo) -> str:
    """ "Tue 2026-03-03 14:05": a time near today, with its weekday."""
    return moment.astimezone(tz).strftime(f"{WEEKDAY_FORMAT} {CLOCK_FORMAT}")


def local_stamp(moment: datetime.datetime, tz: ZoneInfo) -> str:
    """ "2026-03-03 14:05": a full local date and time, for records and exports."""
    return moment.astimezone(tz).strftime(STAMP_FORMAT)


def current_stamp(moment: datetime.datetime) -> str:
    """An instant in the one style, in the active zone (the facility's, within a request)."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime(STAMP_FORMAT)


def local_instants(
    clock: datetime.time, tz: ZoneInfo, start: datetime.datetime, end: datetime.datetime
) -> list[datetime.datetime]:
    """Every instant t with start <= t < end (aware) at which the facility's wall clock read
    `clock`, as UTC, ascending: none for a time the spring-forward gap skips (02:30 on that day
    in New York never happened), two for one the fall-back hour repeats (01:30 EDT and 01:30
    EST). A time written on paper is read through this, never guessed."""
    found: set[datetime.datetime] = set()
    day = start.astimezone(tz).date() - datetime.timedelta(days=1)
    last = end.astimezone(tz).date() + datetime.timedelta(days=1)
    while day <= last:
        for fold in (0, 1):
            wall = datetime.datetime.combine(day, clock).replace(fold=fold)
            moment = wall.replace(tzinfo=tz).astimezone(datetime.UTC)
            # A time in the gap does not come back as itself: it never showed on the clock.
            if moment.astimezone(tz).replace(tzinfo=None) == wall and start <= moment < end:
                found.add(moment)
        day += datetime.timedelta(days=1)
    return sorted(found)
