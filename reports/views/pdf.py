"""The monthly MAR as a PDF: one resident at once; a unit's month built by a worker (a job)."""

import re
import unicodedata

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts.models import Unit
from accounts.permissions import EVERYONE, facility_view, scoped_get
from appointments.models import Appointment
from core.views import paginate, run_service
from residents.models import Resident

from .. import params
from ..downtime import downtime_mar_pdf
from ..forms import MarPdfJobForm
from ..models import JobState, MarPdfJob
from ..packet import appointment_packet_pdf
from ..pdf import mar_pdf
from ..pdf_jobs import job_list, job_row
from ..services import mar_pdf_job_request

ACTION = "read the MAR"


def _filename_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-") or "MAR"


def _pdf_response(content: bytes, name: str, year: int, month: int) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"MAR-{_filename_part(name)}-{year:04d}-{month:02d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@facility_view(EVERYONE, action=ACTION)
def resident_mar_pdf(request, pk: int):
    residents = Resident.objects.select_related("facility", "unit").prefetch_related("allergies")
    resident = scoped_get(residents, request, pk=pk)
    year, month = params.month_param(request, warn=False)
    content = mar_pdf(residents=[resident], year=year, month=month)
    name = f"{resident.last_name} {resident.first_name}"
    return _pdf_response(content, name, year, month)


@facility_view(EVERYONE, action=ACTION)
def unit_mar_pdf(request, pk: int):
    """The unit's PDF used to be built in the request: its address now opens the form that
    asks a worker for it, filled in (a GET starts nothing)."""
    unit = scoped_get(Unit, request, pk=pk)
    year, month = params.month_param(request, warn=False)
    query = urlencode({"unit": unit.pk, "month": f"{year:04d}-{month:02d}"})
    return redirect(f"{reverse('mar_pdf_jobs')}?{query}")


@facility_view(EVERYONE, action=ACTION)
@require_http_methods(["GET", "POST"])
def mar_pdf_jobs(request):
    """The unit MAR PDFs of the facility, newest first, and the form that asks for one."""
    facility = request.facility
    if request.method == "POST":
        form = MarPdfJobForm(request.POST, facility=facility)
        if form.is_valid():
            year, month = form.cleaned_data["month"]
            result = run_service(
                form,
                lambda: mar_pdf_job_request(
                    actor=request.user,
                    facility=facility,
                    unit=form.cleaned_data["unit"],
                    year=year,
                    month=month,
                ),
            )
            if result is not None:
                job, created = result
                if not created:
                    messages.info(request, "This PDF is already being built: here it is.")
                return redirect("mar_pdf_job", pk=job.pk)
    else:
        year, month = params.month_param(request, warn=False)
        initial = {"month": f"{year:04d}-{month:02d}"}
        unit_id = params.id_param(request, "unit", "unit")
        if unit_id is not None:
            initial["unit"] = unit_id
        form = MarPdfJobForm(initial=initial, facility=facility)
    page = paginate(request, job_list(facility=facility), per_page=20)
    rows = [job_row(job) for job in page]
    return render(request, "reports/mar_pdf_jobs.html", {"form": form, "page": page, "rows": rows})


@facility_view(EVERYONE, action=ACTION)
def mar_pdf_job(request, pk: int):
    """One job: its state and progress (htmx asks again every 2 s while it is open; without
    JavaScript the page reloads itself), then the link to the PDF."""
    job = scoped_get(job_list(facility=request.facility), request, pk=pk)
    template = "reports/_mar_pdf_job.html" if request.htmx else "reports/mar_pdf_job.html"
    response = render(request, template, {"job": job_row(job)})
    response["Vary"] = "HX-Request"
    return response


@facility_view(EVERYONE, action=ACTION)
def mar_pdf_job_download(request, pk: int):
    job = scoped_get(MarPdfJob.objects.select_related("unit"), request, pk=pk)
    if job.state != JobState.DONE or job.pdf is None:
        raise Http404("This PDF is not ready.")
    return _pdf_response(bytes(job.pdf), job.unit.name, job.year, job.month)


@facility_view(EVERYONE, action="print appointment packets")
def appointment_packet(request, pk: int):
    """The one-page packet that goes with the resident to the appointment."""
    appointment = scoped_get(
        Appointment.objects.select_related("facility", "resident__unit").prefetch_related(
            "resident__allergies"
        ),
        request,
        pk=pk,
    )
    response = HttpResponse(appointment_packet_pdf(appointment), content_type="application/pdf")
    day = appointment.starts_at.astimezone(request.facility.tz).date()
    name = _filename_part(f"{appointment.resident.last_name} {appointment.resident.first_name}")
    response["Content-Disposition"] = f'inline; filename="Appointment-{name}-{day}.pdf"'
    return response


@facility_view(EVERYONE, action=ACTION)
def downtime_mar(request, pk: int):
    """The unit's doses of the next hours on paper, built now (reports/downtime.py)."""
    unit = scoped_get(Unit, request, pk=pk)
    now = timezone.now()
    pdf = downtime_mar_pdf(facility=request.facility, unit=unit, now=now)
    response = HttpResponse(pdf, content_type="application/pdf")
    stamp = now.astimezone(request.facility.tz).strftime("%Y-%m-%d-%H%M")
    name = _filename_part(unit.name)
    response["Content-Disposition"] = f'inline; filename="Downtime-MAR-{name}-{stamp}.pdf"'
    return response
