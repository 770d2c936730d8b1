"""The monthly MAR as a PDF: the paper grid surveyors read, one resident per section.

The grid data comes from `resident_mar.mar_months`, which reads each table once for all the
residents; this module adds the PRN orders of the month, the orders' hold parameters and the
vital signs taken with those doses (one query each for the whole document: a unit's PDF reads
the same number of queries for 2 residents or 40), then lays each resident's pages out with
WeasyPrint (tables and @page rules only) and joins them: a unit's build can say how far it got
("12 of 20 residents"), and each resident's pages are numbered "Page 1 of 2" as a paper MAR's
are. Nothing here queries per resident, per row or per cell.
"""

import base64
import calendar
import contextlib
import datetime
import gc
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.time import local_day_bounds
from mar.models import Administration
from meds.models import OrderStatus, Prescription
from residents.models import AllergyStatus

from . import resident_mar

logger = logging.getLogger(__name__)

# The hold vitals' row labels, short enough for the time column ("Pulse <60").
_VITAL_SHORT = {
    "systolic_bp": "SBP",
    "diastolic_bp": "DBP",
    "pulse": "Pulse",
    "temperature": "Temp",
    "respirations": "Resp",
    "spo2": "SpO2",
    "blood_glucose": "BG",
}
_COMPARATOR_SIGN = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}
PHOTO_PIXELS = 240  # the longest side of the embedded photo: sharp at 1 inch, small in the file


@dataclass
class VitalRow:
    label: str
    cells: list[str]


@dataclass
class PdfRow:
    time: str
    cells_html: str  # the row's day cells, joined once here (31 cells x many rows per resident)
    vitals: list[VitalRow]


@dataclass
class OrderGroup:
    """One order: its medication cell spans its dose-time rows and its hold-vital rows."""

    order: object
    medication: str
    dose_text: str
    schedule_text: str
    holds: list[str]
    rows: list[PdfRow]

    @property
    def span(self) -> int:
        return sum(1 + len(row.vitals) for row in self.rows)


@dataclass
class PrnRow:
    """A PRN order active in the month: its grid row, with the initials of each dose given."""

    order: object
    medication: str
    dose_text: str
    schedule_text: str
    cells_html: str


@dataclass
class Section:
    resident: object
    mar: resident_mar.MonthMar
    photo: str  # data: URI, or "" for the initials placeholder
    initials: str
    age: int
    allergies: str
    allergy_css: str
    days: list[tuple[int, str, bool]]  # (day, two-letter weekday, weekend)
    groups: list[OrderGroup]
    prn_rows: list[PrnRow]


def mar_pdf(
    *,
    residents,
    year: int,
    month: int,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The month's MAR of each resident (in the order given) as one PDF, each on new pages.

    `progress(done, total)` is called after each resident's pages are laid out. Dates and times
    are the facility's (rendered under its zone: this may run outside a request).
    """
    from weasyprint import HTML

    residents = list(residents)
    with _kept_pages() as keep:
        # Cached relations are kept: one query each only when the caller did not fetch them.
        prefetch_related_objects(residents, "facility", "unit", "allergies")
        mars = resident_mar.mar_months(residents=residents, year=year, month=month)
        prn_orders = _prn_orders(residents, year, month)
        # Every order's hold parameters and the readings taken with their doses: one query each.
        orders = {row.order.pk: row.order for mar in mars for row in mar.rows}
        prefetch_related_objects(list(orders.values()), "hold_parameters")
        readings = _hold_readings(mars, orders.values())
        facility = residents[0].facility if residents else None
        context = {
            "month_label": f"{calendar.month_name[month]} {year}",
            "facility": facility,
            "printed": timezone.now(),
        }
        documents = []
        with timezone.override(facility.tz if facility else datetime.UTC):
            for done, mar in enumerate(mars, 1):
                section = _section(mar, prn_orders.get(mar.resident.pk, []), readings)
                html = render_to_string(
                    "reports/pdf/mar_month.html", {**context, "sections": [section]}
                )
                documents.append(HTML(string=html).render())
                if done < len(mars):
                    keep()
                if progress is not None:
                    progress(done, len(residents))
            if not documents:
                html = render_to_string("reports/pdf/mar_month.html", {**context, "sections": []})
                return HTML(string=html).write_pdf()
            pages = [page for document in documents for page in document.pages]
            return documents[0].copy(pages).write_pdf()


@contextlib.contextmanager
def _kept_pages():
    """Lay out without the automatic garbage collector; `keep()` sets the pages so far aside.

    WeasyPrint makes millions of small objects, and a unit's pages are all kept until the PDF is
    written: Python's cyclic collector would walk every kept page again at each of its frequent
    runs, a quarter of a unit's build. Here it does not run by itself; `keep()` (after each
    resident but the last) collects what that resident's layout left over and freezes the rest
    (the pages), so the next collection skips them and memory stays that of the pages. All is
    unfrozen, and the collector as it was, at the end.
    """
    enabled = gc.isenabled()
    gc.disable()

    def keep() -> None:
        gc.collect()
        gc.freeze()

    try:
        yield keep
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def _prn_orders(residents, year: int, month: int) -> dict[int, list[Prescription]]:
    """{resident id: PRN orders available in the month}: verified, started by its last day and
    not stopped before its first; discontinued ones only when a dose of the month shows them."""
    if not residents:
        return {}
    first = datetime.date(year, month, 1)
    last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    tz = residents[0].facility.tz
    end = local_day_bounds(last, tz)[1]
    start = local_day_bounds(first, tz)[0]
    orders = (
        Prescription.objects.filter(resident__in=residents, is_prn=True)
        .filter(start_date__lte=last)
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=first))
        .filter(
            Q(status__in=[OrderStatus.ACTIVE, OrderStatus.ON_HOLD], active_since__lt=end)
            | Q(
                administrations__administered_at__gte=start,
                administrations__administered_at__lt=end,
            )
        )
        .select_related("medication")
        .distinct()
        .order_by("medication__name", "pk")
    )
    result: dict[int, list[Prescription]] = {}
    for order in orders:
        result.setdefault(order.resident_id, []).append(order)
    return result


def _hold_readings(mars, orders) -> dict[int, dict[str, list[str]]]:
    """{administration id: {vital kind: [values]}} of the month's doses of the orders with hold
    parameters (the readings printed under their dose rows), for every resident at once."""
    held = {order.pk for order in orders if order.hold_parameters.all()}
    if not held:
        return {}
    mar = mars[0]
    start = local_day_bounds(mar.days[0], mar.tz)[0]
    end = local_day_bounds(mar.days[-1], mar.tz)[1]
    result: dict[int, dict[str, list[str]]] = {}
    # The links of the records to their readings (`Administration.readings`), read from the
    # link table with the readings joined: one query.
    rows = Administration.readings.through.objects.filter(
        administration__dose__prescription_id__in=held,
        administration__dose__due_at__gte=start,
        administration__dose__due_at__lt=end,
    ).values_list("administration_id", "vitalreading__kind", "vitalreading__value")
    for administration_id, kind, value in rows.order_by(
        "vitalreading__taken_at", "vitalreading_id"
    ):
        result.setdefault(administration_id, {}).setdefault(kind, []).append(
            f"{value.normalize():f}"
        )
    return result


def _section(mar: resident_mar.MonthMar, prn_orders: list[Prescription], readings) -> Section:
    resident = mar.resident
    groups: list[OrderGroup] = []
    for row in mar.rows:
        parameters = row.order.hold_parameters.all()
        if not groups or groups[-1].order.pk != row.order.pk:
            groups.append(
                OrderGroup(
                    order=row.order,
                    medication=row.medication,
                    dose_text=row.dose_text,
                    schedule_text=row.schedule_text,
                    holds=[str(parameter) for parameter in parameters],
                    rows=[],
                )
            )
        vitals = [
            VitalRow(
                label=f"{_VITAL_SHORT.get(p.vital, p.vital)} {_COMPARATOR_SIGN[p.comparator]}"
                f"{p.threshold.normalize():f}",
                cells=[_reading(cell, p.vital, readings) for cell in row.cells],
            )
            for p in parameters
        ]
        cells_html = mark_safe("".join(_cell(cell) for cell in row.cells))  # noqa: S308
        groups[-1].rows.append(PdfRow(row.time, cells_html, vitals))
    today = timezone.now().astimezone(mar.tz).date()
    return Section(
        resident=resident,
        mar=mar,
        photo=_photo_uri(resident),
        initials=(resident.first_name[:1] + resident.last_name[:1]).upper(),
        age=resident.age_on(min(today, mar.days[-1])),
        allergies=_allergies(resident),
        allergy_css={
            AllergyStatus.RECORDED: "allergy-bad",
            AllergyStatus.NKDA: "allergy-ok",
        }.get(resident.allergy_status, "allergy-warn"),
        days=[(d.day, d.strftime("%a")[:2], d.isoweekday() > 5) for d in mar.days],
        groups=groups,
        prn_rows=_prn_rows(mar, prn_orders),
    )


def _prn_rows(mar: resident_mar.MonthMar, orders: list[Prescription]) -> list[PrnRow]:
    """One grid row per PRN order of the month, given or not: the day cells hold the initials
    of each dose given that day (struck when entered in error), blank on the other days."""
    by_order_day: dict[tuple[int, datetime.date], list[str]] = {}
    for record in mar.prns:
        text = escape(record.corrected_text or record.cell_text)
        by_order_day.setdefault((record.order_id, record.day), []).append(
            f"<s>{text}</s>" if record.voided else text
        )
    rows = []
    for order in orders:
        cells = []
        for day in mar.days:
            entries = by_order_day.get((order.pk, day), [])
            cells.append(f"<td>{'<br>'.join(entries)}</td>")
        rows.append(
            PrnRow(
                order=order,
                medication=str(order.medication),
                dose_text=order.dose_text,
                schedule_text=order.schedule_text,
                cells_html=mark_safe("".join(cells)),  # noqa: S308 (escaped above)
            )
        )
    return rows


def _cell(cell: resident_mar.Cell) -> str:
    """The day cell's <td>: initials or codes, struck originals, small marks under them.

    Built here rather than in the template (a month is 28-31 cells per row); every text from
    the records is escaped. Nothing here queries.
    """
    lines: list[str] = []
    for dose in cell.doses:
        for record in dose.records:
            if record.voided:
                error = record.in_error
                lines.append(f"<s>{escape(record.cell_text)}</s>")
                lines.append(f'<i class="err">in error {error.number if error else ""}</i>')
                continue
            if record.corrected_text:
                lines.append(f"<s>{escape(record.cell_text)}</s>")
            lines.append(escape(record.corrected_text or record.cell_text))
            if record.late:
                lines.append('<i class="late">late</i>')
            lines.extend(f'<i class="amd">amended {a.number}</i>' for a in record.amendments)
        if dose.mark:
            lines.append(f'<i class="k-{dose.mark}">{escape(dose.mark_text)}</i>')
    attributes = ' class="missed"' if "missed" in cell.marks else ""  # weekends: the <col>
    return f"<td{attributes}>{'<br>'.join(lines)}</td>"


def _reading(cell: resident_mar.Cell, vital: str, readings) -> str:
    values = []
    for dose in cell.doses:
        record = dose.standing
        if record is not None:
            values.extend(readings.get(record.pk, {}).get(vital, []))
    return "/".join(values)


def _allergies(resident) -> str:
    if resident.allergy_status == AllergyStatus.RECORDED:
        items = []
        for allergy in resident.allergies.all():
            detail = allergy.reaction
            if allergy.severity != "unknown":
                detail = f"{detail}, {allergy.get_severity_display().lower()}".strip(", ")
            items.append(f"{allergy.substance} ({detail})" if detail else allergy.substance)
        return "; ".join(items) or "Allergies recorded (none listed)"
    if resident.allergy_status == AllergyStatus.NKDA:
        return "NKDA (no known drug allergies)"
    return "NOT RECORDED: check with the nurse"


def _photo_uri(resident) -> str:
    """The resident's photo as a small data: URI; "" (initials placeholder) when unreadable."""
    if not resident.photo:
        return ""
    try:
        from PIL import Image

        with resident.photo.open("rb") as handle:
            image = Image.open(handle)
            image.load()
        image = image.convert("RGB")
        image.thumbnail((PHOTO_PIXELS, PHOTO_PIXELS))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
    except Exception:  # a missing or broken file must not stop the printout
        logger.warning("MAR PDF: photo of resident %s unreadable", resident.pk, exc_info=True)
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
