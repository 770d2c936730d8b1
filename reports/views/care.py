"""The facility's care report: care given and missed by unit and shift, for a month."""

from django.shortcuts import render

from accounts.permissions import WRITERS_CLINICAL, facility_view

from .. import care_report, params
from ..csv_export import csv_response, wants_csv


@facility_view(WRITERS_CLINICAL, action="read reports")
def report_care(request):
    year, month = params.month_param(request)
    rows = care_report.care_by_unit_and_shift(facility=request.facility, year=year, month=month)
    if wants_csv(request):
        return csv_response(
            f"care-{year:04d}-{month:02d}",
            ["Unit", "Shift", "Care tasks", "Done", "Refused", "Not done", "Missed"],
            ([r.unit, r.shift, r.tasks, r.done, r.refused, r.not_done, r.missed] for r in rows),
        )
    return render(
        request,
        "reports/care.html",
        {
            "rows": rows,
            "month": f"{year:04d}-{month:02d}",
            "previous_month": params.shift_month(year, month, -1),
            "next_month": params.shift_month(year, month, 1),
        },
    )
