"""The resident's MAR pages: one day in detail, or the month grid (also its printout)."""

from django.shortcuts import render

from accounts.permissions import EVERYONE, facility_view, scoped_get
from residents.models import Resident

from .. import params, resident_mar


def _resident(request, pk: int) -> Resident:
    residents = Resident.objects.select_related("unit", "facility").prefetch_related("allergies")
    return scoped_get(residents, request, pk=pk)


@facility_view(EVERYONE, action="read the MAR")
def resident_mar_day(request, pk: int):
    resident = _resident(request, pk)
    today = request.facility.local_today()
    day = params.day_param(request, "date", today, default_text="today")
    mar = resident_mar.mar_day(resident=resident, day=day)
    return render(
        request,
        "reports/resident_mar_day.html",
        {
            "resident": resident,
            "mar": mar,
            "previous_day": params.shift_day(day, -1),
            "next_day": params.shift_day(day, 1),
            "month_param": f"{day.year:04d}-{day.month:02d}",
            "is_today": day == today,
        },
    )


@facility_view(EVERYONE, action="read the MAR")
def resident_mar_month(request, pk: int):
    resident = _resident(request, pk)
    year, month = params.month_param(request)
    mar = resident_mar.mar_month(resident=resident, year=year, month=month)
    return render(
        request,
        "reports/resident_mar_month.html",
        {
            "resident": resident,
            "mar": mar,
            "previous_month": params.shift_month(year, month, -1),
            "next_month": params.shift_month(year, month, 1),
            "today": request.facility.local_today(),
        },
    )
