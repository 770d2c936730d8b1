"""The resident's MAR pages: one day in detail, or the month grid (also its printout)."""

import datetime
import re

from django.contrib import messages
from django.shortcuts import render

from accounts.permissions import EVERYONE, facility_view, scoped_get
from residents.models import Resident

from . import mar_selectors

# Years a MAR page may show; anything else in the address is a typo, not a request.
_YEARS = range(2000, 2101)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _resident(request, pk: int) -> Resident:
    residents = Resident.objects.select_related("unit", "facility").prefetch_related("allergies")
    return scoped_get(residents, request, pk=pk)


def _today(request) -> datetime.date:
    return request.facility.local_today()


def _parse_day(request) -> datetime.date:
    raw = (request.GET.get("date") or "").strip()
    if raw:
        try:
            day = datetime.date.fromisoformat(raw)
            if day.year in _YEARS:
                return day
        except ValueError:
            pass
        messages.warning(request, f"“{raw}” is not a date like 2026-03-08; showing today.")
    return _today(request)


def _parse_month(request) -> tuple[int, int]:
    raw = (request.GET.get("month") or "").strip()
    if raw:
        match = _MONTH.match(raw)
        if match and int(match[1]) in _YEARS and 1 <= int(match[2]) <= 12:
            return int(match[1]), int(match[2])
        messages.warning(request, f"“{raw}” is not a month like 2026-03; showing this month.")
    today = _today(request)
    return today.year, today.month


def _shift_month(year: int, month: int, by: int) -> str:
    index = year * 12 + (month - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@facility_view(EVERYONE, action="read the MAR")
def resident_mar_day(request, pk: int):
    resident = _resident(request, pk)
    day = _parse_day(request)
    mar = mar_selectors.mar_day(resident=resident, day=day)
    one = datetime.timedelta(days=1)
    return render(
        request,
        "mar/resident_mar_day.html",
        {
            "resident": resident,
            "mar": mar,
            "previous_day": (day - one).isoformat()
            if day - one >= datetime.date(2000, 1, 1)
            else "",
            "next_day": (day + one).isoformat() if (day + one).year in _YEARS else "",
            "month_param": f"{day.year:04d}-{day.month:02d}",
            "is_today": day == _today(request),
        },
    )


@facility_view(EVERYONE, action="read the MAR")
def resident_mar_month(request, pk: int):
    resident = _resident(request, pk)
    year, month = _parse_month(request)
    mar = mar_selectors.mar_month(resident=resident, year=year, month=month)
    previous_month, next_month = _shift_month(year, month, -1), _shift_month(year, month, 1)
    return render(
        request,
        "mar/resident_mar_month.html",
        {
            "resident": resident,
            "mar": mar,
            "previous_month": previous_month if int(previous_month[:4]) in _YEARS else "",
            "next_month": next_month if int(next_month[:4]) in _YEARS else "",
            "today": _today(request),
        },
    )
