"""The monthly MAR as a PDF: one resident, or every resident of a unit."""

import re
import unicodedata

from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponse

from accounts.models import Unit
from accounts.permissions import EVERYONE, facility_view, scoped_get
from core.time import local_month_bounds
from mar.models import Administration, ScheduledDose
from residents.models import Resident, ResidentStatus

from .. import params
from ..pdf import mar_pdf


def _filename_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-") or "MAR"


def _pdf_response(content: bytes, name: str, year: int, month: int) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"MAR-{_filename_part(name)}-{year:04d}-{month:02d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _residents():
    return Resident.objects.select_related("facility", "unit").prefetch_related("allergies")


@facility_view(EVERYONE, action="read the MAR")
def resident_mar_pdf(request, pk: int):
    resident = scoped_get(_residents(), request, pk=pk)
    year, month = params.month_param(request, warn=False)
    content = mar_pdf(residents=[resident], year=year, month=month)
    name = f"{resident.last_name} {resident.first_name}"
    return _pdf_response(content, name, year, month)


@facility_view(EVERYONE, action="read the MAR")
def unit_mar_pdf(request, pk: int):
    unit = scoped_get(Unit, request, pk=pk)
    year, month = params.month_param(request, warn=False)
    start, end = local_month_bounds(year, month, request.facility.tz)
    had_doses = Exists(
        ScheduledDose.objects.filter(resident=OuterRef("pk"), due_at__gte=start, due_at__lt=end)
    ) | Exists(
        Administration.objects.filter(
            resident=OuterRef("pk"), administered_at__gte=start, administered_at__lt=end
        )
    )
    residents = (
        _residents()
        .filter(facility=request.facility, unit=unit)
        .filter(Q(status=ResidentStatus.ACTIVE) | had_doses)
        .order_by("last_name", "first_name", "pk")
    )
    content = mar_pdf(residents=residents, year=year, month=month)
    return _pdf_response(content, unit.name, year, month)
