"""The period a report, a MAR page, a PDF or an export asks for, read from its address.

One reader for every page: `?date=YYYY-MM-DD`, `?month=YYYY-MM`, `?start=…&end=…` (facility-local
days, both included), `?unit=` / `?resident=` ids. A value that cannot be read falls back to the
default, with a message on the pages a person reads (`warn`); never an error page.
"""

import datetime
import re

from django.contrib import messages

# Years a page may show; anything else in the address is a typo, not a request.
YEARS = range(2000, 2101)
FIRST_DAY = datetime.date(YEARS.start, 1, 1)
DEFAULT_DAYS = 30
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_day(raw: str | None) -> datetime.date | None:
    try:
        day = datetime.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if day.year in YEARS else None


def parse_month(raw: str | None) -> tuple[int, int] | None:
    match = _MONTH.match((raw or "").strip())
    if match and int(match[1]) in YEARS and 1 <= int(match[2]) <= 12:
        return int(match[1]), int(match[2])
    return None


def day_param(
    request, name: str, default: datetime.date, *, warn: bool = True, default_text: str = ""
) -> datetime.date:
    """The day in ?<name>=, else `default` (with a message when something unreadable was sent)."""
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return default
    day = parse_day(raw)
    if day is not None:
        return day
    if warn:
        shown = default_text or default.isoformat()
        messages.warning(request, f"“{raw}” is not a date like 2026-03-08; showing {shown}.")
    return default


def month_param(request, *, warn: bool = True) -> tuple[int, int]:
    """(year, month) in ?month=, else the facility's current month."""
    raw = (request.GET.get("month") or "").strip()
    if raw:
        month = parse_month(raw)
        if month is not None:
            return month
        if warn:
            messages.warning(request, f"“{raw}” is not a month like 2026-03; showing this month.")
    today = request.facility.local_today()
    return today.year, today.month


def date_range(
    request, *, default_days: int = DEFAULT_DAYS, warn: bool = True
) -> tuple[datetime.date, datetime.date]:
    """?start= and ?end=: by default the `default_days` days up to the facility's today.

    With `warn`, a start after the end is reported and replaced by the default start; without
    (a download nobody reads messages on), the two are swapped.
    """
    end = day_param(request, "end", request.facility.local_today(), warn=warn)
    default_start = end - datetime.timedelta(days=default_days - 1)
    start = day_param(request, "start", default_start, warn=warn)
    if start > end:
        if not warn:
            return end, start
        messages.warning(
            request,
            f"The start {start.isoformat()} is after the end {end.isoformat()}; "
            f"showing the {default_days} days up to the end.",
        )
        start = default_start
    return start, end


def id_param(request, name: str, what: str) -> int | None:
    """A row id in ?<name>= (another facility's id simply matches nothing), else None."""
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    if raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    messages.warning(request, f"“{raw}” is not a {what}; showing all {what}s.")
    return None


def shift_month(year: int, month: int, by: int) -> str:
    """ "YYYY-MM" `by` months away, or "" outside the years a page may show."""
    index = year * 12 + (month - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}" if index // 12 in YEARS else ""


def shift_day(day: datetime.date, by: int) -> str:
    """ "YYYY-MM-DD" `by` days away, or "" outside the years a page may show."""
    try:
        other = day + datetime.timedelta(days=by)
    except OverflowError:
        return ""
    return other.isoformat() if other.year in YEARS else ""
