"""Report pages for nurse supervisors and surveyors; each also as CSV (`?format=csv`).

Filters come from the address: `start` and `end` (facility-local days, YYYY-MM-DD; default the
last 30 days), `unit` and `resident` (ids: another facility's ids match nothing). A value that
cannot be read falls back to the default with a message, never an error page.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import slugify

from accounts.models import Membership, Unit
from accounts.permissions import WRITERS_CLINICAL, facility_view, scoped_get
from core.audit import AuditChange, audit_kind, audit_kinds, audit_page, audit_rows
from core.time import current_stamp
from core.views import paginate
from incidents.selectors import incident_counts
from residents.models import Resident

from .. import audit, controlled, error_rate, exceptions, params, prn
from ..csv_export import csv_response, wants_csv

ACTION = "read reports"
CONTROLLED_ITEMS_PER_PAGE = 10
AUDIT_CSV_CHUNK = 1000  # events an audit trail's CSV reads at a time


@dataclass
class Filters:
    start: datetime.date
    end: datetime.date
    unit_id: int | None = None
    resident_id: int | None = None
    extra: dict | None = None  # report-specific parameters (month, item) kept in links
    dated: bool = True  # False: a monthly report, whose period is its month

    def params(self, **more) -> dict:
        params = {}
        if self.dated:
            params.update(start=self.start.isoformat(), end=self.end.isoformat())
        if self.unit_id:
            params["unit"] = self.unit_id
        if self.resident_id:
            params["resident"] = self.resident_id
        params.update(self.extra or {})
        params.update(more)
        return params

    @property
    def csv_query(self) -> str:
        return "?" + urlencode(self.params(format="csv"))


def _filters(request, *, dates: bool = True) -> Filters:
    """The period (`params.date_range`) and the unit / resident of the address."""
    if dates:
        start, end = params.date_range(request, default_days=params.DEFAULT_DAYS)
    else:
        end = request.facility.local_today()
        start = end - datetime.timedelta(days=params.DEFAULT_DAYS - 1)
    return Filters(
        dated=dates,
        start=start,
        end=end,
        unit_id=params.id_param(request, "unit", "unit"),
        resident_id=params.id_param(request, "resident", "resident"),
    )


def _choices(request) -> dict:
    """The filter form's unit and resident lists (2 queries)."""
    return {
        "units": list(Unit.objects.filter(facility=request.facility).order_by("name")),
        "residents": list(
            Resident.objects.filter(facility=request.facility)
            .only("pk", "first_name", "last_name", "preferred_name")
            .order_by("last_name", "first_name", "pk")
        ),
    }


def _render(request, template: str, filters: Filters, context: dict):
    return render(
        request,
        template,
        {**_choices(request), "filters": filters, "csv_query": filters.csv_query, **context},
    )


def _name(user) -> str:
    return str(user) if user is not None else ""


# Index ----------------------------------------------------------------------------------------


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_index(request):
    """The reports; picking a resident or a staff member goes to their audit trail."""
    targets = {"audit_resident": "report_audit_resident", "audit_staff": "report_audit_staff"}
    for param, target in targets.items():
        raw = (request.GET.get(param) or "").strip()
        if raw.isdigit() and int(raw) < 2**63:
            return redirect(target, pk=int(raw))
    staff = (
        Membership.objects.filter(facility=request.facility)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    return render(
        request,
        "reports/index.html",
        {
            **_choices(request),
            "staff": [m.user for m in staff],
            "this_month": request.facility.local_today().strftime("%Y-%m"),
        },
    )


# Exceptions -----------------------------------------------------------------------------------


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_exceptions(request):
    filters = _filters(request)
    report = exceptions.exceptions_report(
        facility=request.facility,
        start=filters.start,
        end=filters.end,
        unit_id=filters.unit_id,
        resident_id=filters.resident_id,
    )
    if wants_csv(request):
        return csv_response(
            "exceptions",
            [
                "Exception",
                "Resident",
                "Unit",
                "Room",
                "Medication",
                "Dose",
                "Due",
                "Recorded by",
                "Recorded at",
                "Why",
                "Hold reading",
                "Prescriber notification",
            ],
            (
                [
                    row.kind_text,
                    row.resident.display_name,
                    row.resident.unit.name if row.resident.unit_id else "",
                    row.resident.room,
                    row.medication,
                    row.dose_text,
                    row.due_at,
                    _name(row.who),
                    row.at,
                    row.why,
                    row.reading,
                    row.notification,
                ]
                for row in report.rows
            ),
            filters=filters,
        )
    page = paginate(request, report.entries)
    page.object_list = report.rows_for(page.object_list)
    return _render(request, "reports/exceptions.html", filters, {"report": report, "page": page})


# PRN ------------------------------------------------------------------------------------------


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_prn(request):
    filters = _filters(request)
    report = prn.prn_report(
        facility=request.facility,
        start=filters.start,
        end=filters.end,
        unit_id=filters.unit_id,
        resident_id=filters.resident_id,
        today=request.facility.local_today(),
    )
    if wants_csv(request):
        return csv_response(
            "prn",
            [
                "Resident",
                "Unit",
                "Medication",
                "Order",
                "Doses",
                "Reasons",
                "Follow-up results",
                "Follow-ups missing",
                "Days with 2+ doses (last 14)",
                "Flags",
            ],
            (
                [
                    row.resident.display_name,
                    row.resident.unit.name if row.resident.unit_id else "",
                    row.medication,
                    row.order.schedule_text,
                    len(row.doses),
                    "; ".join(f"{reason} ({n})" for reason, n in row.reasons),
                    "; ".join(f"{result} ({n})" for result, n in row.results),
                    "; ".join(current_stamp(d.at) for d in row.missing),
                    row.busy_days,
                    "; ".join(row.flags),
                ]
                for row in report.rows
            ),
            filters=filters,
        )
    page = paginate(request, report.orders)
    page.object_list = report.rows_for(list(page.object_list))
    return _render(request, "reports/prn.html", filters, {"report": report, "page": page})


# Error rate -----------------------------------------------------------------------------------


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_error_rate(request):
    year, month = params.month_param(request)
    month_param = f"{year:04d}-{month:02d}"
    filters = _filters(request, dates=False)
    filters.extra = {"month": month_param}
    report = error_rate.error_rate_report(
        facility=request.facility,
        year=year,
        month=month,
        unit_id=filters.unit_id,
        resident_id=filters.resident_id,
    )
    if wants_csv(request):
        rate = f"{report.rate:.2f}%" if report.rate is not None else ""
        return csv_response(
            f"error-rate-{year:04d}-{month:02d}",
            ["Error", "Resident", "Medication", "Due", "Given at", "By", "Detail"],
            (
                [
                    e.kind_label,
                    e.resident.display_name,
                    e.medication,
                    e.due_at,
                    e.at,
                    _name(e.who),
                    e.detail,
                ]
                for e in report.errors
            ),
            preamble=[
                ["Month", f"{year:04d}-{month:02d}"],
                ["Opportunities", report.opportunities],
                ["Errors", len(report.errors)],
                ["Error rate", rate, report.verdict],
                [],
            ],
        )
    return _render(
        request,
        "reports/error_rate.html",
        filters,
        {
            "report": report,
            "page": paginate(request, report.errors),
            "month": month_param,
            "previous_month": params.shift_month(year, month, -1),
            "next_month": params.shift_month(year, month, 1),
        },
    )


# Controlled-drug log --------------------------------------------------------------------------


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_controlled(request):
    filters = _filters(request)
    item_id = params.id_param(request, "item", "stock item")
    if item_id:
        filters.extra = {"item": item_id}
    report = controlled.controlled_log_report(
        facility=request.facility,
        start=filters.start,
        end=filters.end,
        unit_id=filters.unit_id,
        resident_id=filters.resident_id,
        item_id=item_id,
    )
    if wants_csv(request):
        rows = []
        for log in report.logs:
            owner = log.item.resident.display_name if log.item.resident_id else "house stock"
            item = str(log.item.medication)
            rows.append(
                [item, owner, "Opening balance", filters.start, "", log.opening, "", "", ""]
            )
            for m in log.movements:
                rows.append(
                    [
                        item,
                        owner,
                        m.get_kind_display(),
                        m.local_at,
                        m.quantity,
                        m.balance_after,
                        _name(m.by),
                        _name(m.witness),
                        m.reason,
                    ]
                )
            for c in log.counts:
                rows.append(
                    [
                        item,
                        owner,
                        "Shift count" + (" (DISCREPANCY)" if c.discrepancy else ""),
                        c.at,
                        f"expected {c.expected}",
                        c.counted,
                        _name(c.outgoing_by),
                        _name(c.incoming_by),
                        c.unit,
                    ]
                )
        return csv_response(
            "controlled-log",
            [
                "Item",
                "Resident",
                "Entry",
                "When",
                "Quantity",
                "Balance / counted",
                "By (outgoing)",
                "Witness (incoming)",
                "Reason / unit",
            ],
            rows,
            filters=filters,
        )
    # A page holds whole items' logs (each with its movements and counts).
    page = paginate(request, report.items, per_page=CONTROLLED_ITEMS_PER_PAGE)
    page.object_list = report.logs_for(list(page.object_list))
    return _render(request, "reports/controlled.html", filters, {"page": page, "item_id": item_id})


# Audit trails ---------------------------------------------------------------------------------

_AUDIT_HEADER = ["When", "Who", "What", "Record", "Action", "Field", "Before", "After", "Page"]


def _audit_csv_rows(events, tz):
    """The whole trail's CSV rows, read AUDIT_CSV_CHUNK events at a time (2 queries each)."""
    for chunk in events.chunks(AUDIT_CSV_CHUNK):
        for e in audit_rows(chunk, tz):
            head = [e.stamp, e.who, e.what, e.subject, e.action]
            for c in e.changes or [AuditChange("", "", "")]:
                yield [*head, c.label, c.before, c.after, e.url]


def _audit(request, events, filters: Filters, kind: str, name: str, context: dict):
    """The trail's page (or its complete CSV) with the period and kind kept in its links."""
    if kind:
        filters.extra = {"kind": kind}
    if wants_csv(request):
        rows = _audit_csv_rows(events, request.facility.tz)
        return csv_response(name, _AUDIT_HEADER, rows, filters=filters, stream=True)
    return render(
        request,
        "reports/audit.html",
        {
            "filters": filters,
            "csv_query": filters.csv_query,
            "page": audit_page(request, events, request.facility.tz),
            "kinds": audit_kinds(),
            "kind": kind,
            **context,
        },
    )


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_incidents(request):
    """The month's incidents by unit and type (when they happened, facility time)."""
    year, month = params.month_param(request)
    month_param = f"{year:04d}-{month:02d}"
    counts = incident_counts(facility=request.facility, year=year, month=month)
    if wants_csv(request):
        return csv_response(
            f"incidents-{month_param}",
            ["Unit", *counts.kinds, "All"],
            [
                *([row.unit, *row.counts, row.total] for row in counts.rows),
                ["All units", *counts.totals, counts.total],
            ],
            preamble=[["Facility", request.facility.name], ["Month", month_param], []],
        )
    return render(
        request,
        "reports/incidents.html",
        {
            "counts": counts,
            "month": month_param,
            "previous_month": params.shift_month(year, month, -1),
            "next_month": params.shift_month(year, month, 1),
            "csv_query": "?" + urlencode({"month": month_param, "format": "csv"}),
        },
    )


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_audit_resident(request, pk: int):
    resident = scoped_get(Resident.objects.select_related("facility", "unit"), request, pk=pk)
    filters = _filters(request)
    filters.unit_id = filters.resident_id = None
    kind = audit_kind(request)
    events = audit.resident_audit_events(
        resident=resident, start=filters.start, end=filters.end, kind=kind
    )
    context = {"subject": resident.display_name, "kind_of_trail": "resident", "resident": resident}
    return _audit(
        request, events, filters, kind, f"audit-{slugify(resident.display_name)}", context
    )


@facility_view(WRITERS_CLINICAL, action=ACTION)
def report_audit_staff(request, pk: int):
    user = audit.staff_member(facility=request.facility, pk=pk)
    if user is None:
        raise Http404("No staff member of this facility has that id.")
    filters = _filters(request)
    filters.unit_id = filters.resident_id = None
    kind = audit_kind(request)
    events = audit.staff_audit_events(
        facility=request.facility, user=user, start=filters.start, end=filters.end, kind=kind
    )
    context = {"subject": str(user), "kind_of_trail": "staff", "staff_user": user}
    return _audit(request, events, filters, kind, f"audit-{slugify(str(user))}", context)
