"""The resident's ADL care month: page, CSV and PDF."""

from django.http import HttpResponse
from django.shortcuts import render

from accounts.permissions import CARE_STAFF, facility_view, scoped_get
from residents.models import Resident

from .. import adl, params
from ..csv_export import csv_response, wants_csv


@facility_view(CARE_STAFF, action="read the care record")
def resident_adl_month(request, pk: int):
    resident = scoped_get(Resident.objects.select_related("unit", "facility"), request, pk=pk)
    year, month = params.month_param(request)
    grid = adl.adl_month(resident=resident, year=year, month=month)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            adl.adl_pdf(resident=resident, year=year, month=month), content_type="application/pdf"
        )
        name = f"ADL-{resident.last_name}-{resident.first_name}-{year:04d}-{month:02d}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
    if wants_csv(request):
        return csv_response(
            f"adl-{resident.last_name.lower()}-{year:04d}-{month:02d}",
            ["Care", "Shift", "Planned help", *[day.isoformat() for day in grid.days]],
            ([row.category, row.shift, row.planned, *row.cells] for row in grid.rows),
        )
    return render(
        request,
        "reports/resident_adl_month.html",
        {
            "resident": resident,
            "grid": grid,
            "legend": adl.LEGEND,
            "month": f"{year:04d}-{month:02d}",
            "previous_month": params.shift_month(year, month, -1),
            "next_month": params.shift_month(year, month, 1),
            "today": request.facility.local_today(),
        },
    )
