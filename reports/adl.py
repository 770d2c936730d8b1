"""The resident's ADL care for a month, as the MAR reads: rows are care items by shift, columns
the days, each cell what was documented (the GG code and initials; R refused, N not done, M
missed). One query for the month's tasks, whatever their number."""

import calendar
import datetime
from dataclasses import dataclass, field

from care.models import SHIFT_LABELS, SHIFT_ORDER, AdlCategory, CareTask, live_record_prefetch
from residents.models import Resident

# What a cell reads for a task without a "done" record.
MARKS = {
    "refused": "R",
    "not_done": "N",
    "missed": "M",
    "cancelled": "—",
    "due": "",
    "overdue": "",
}
LEGEND = [
    ("06 … 01", "Done, with the level of help given (CMS GG: 06 independent … 01 dependent)"),
    ("R", "Refused (07)"),
    ("N", "Not done, with a reason"),
    ("M", "Missed: nothing documented before the shift ended"),
    ("—", "Not due: away, discharged or the plan changed"),
]


@dataclass
class AdlRow:
    category: str
    shift: str
    planned: str  # the planned GG code (the latest plan's)
    cells: list[str] = field(default_factory=list)


@dataclass
class AdlMonth:
    resident: Resident
    first: datetime.date
    days: list[datetime.date]
    rows: list[AdlRow]


def adl_month(*, resident: Resident, year: int, month: int) -> AdlMonth:
    first = datetime.date(year, month, 1)
    days = [first + datetime.timedelta(days=i) for i in range(calendar.monthrange(year, month)[1])]
    tasks = (
        CareTask.objects.filter(resident=resident, shift_day__gte=days[0], shift_day__lte=days[-1])
        .select_related("item")
        .prefetch_related(live_record_prefetch())
        .order_by("shift_day", "window_opens_at")
    )
    rows: dict[tuple[str, str], AdlRow] = {}
    index = {day: i for i, day in enumerate(days)}
    for task in tasks:
        key = (task.item.category, task.shift_name)
        row = rows.get(key)
        if row is None:
            row = rows[key] = AdlRow(
                AdlCategory(task.item.category).label,
                SHIFT_LABELS.get(task.shift_name, task.shift_name),
                task.item.planned_code,
                [""] * len(days),
            )
        row.planned = task.item.planned_code
        row.cells[index[task.shift_day]] = _cell(task)
    ordered = sorted(
        rows.items(),
        key=lambda kv: (AdlCategory.values.index(kv[0][0]), SHIFT_ORDER.get(kv[0][1], 9)),
    )
    return AdlMonth(resident, first, days, [row for _, row in ordered])


def _cell(task: CareTask) -> str:
    record = task.record
    if record is not None:
        who = record.recorded_by.initials
        if record.current_status == "done":
            return f"{record.current_code} {who}"
        return f"{MARKS.get(record.current_status, '?')} {who}"
    return MARKS.get(task.state, "")


def adl_pdf(*, resident: Resident, year: int, month: int) -> bytes:
    """The month's ADL grid as a PDF page in the MAR PDF's layout (letter landscape, the same
    header and footer), in the facility's zone."""
    from django.template.loader import render_to_string
    from django.utils import timezone
    from weasyprint import HTML

    grid = adl_month(resident=resident, year=year, month=month)
    context = {
        "resident": resident,
        "facility": resident.facility,
        "grid": grid,
        "legend": LEGEND,
        "month_label": f"{calendar.month_name[month]} {year}",
        "printed": timezone.now(),
        "days": [(d.day, d.strftime("%a")[:2], d.weekday() >= 5) for d in grid.days],
    }
    with timezone.override(resident.facility.tz):
        return HTML(string=render_to_string("reports/pdf/adl_month.html", context)).write_pdf()
