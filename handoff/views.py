import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, Unit
from accounts.permissions import CARE_STAFF, WRITERS_CLINICAL, facility_view, scoped_get
from accounts.selectors import unit_list
from core.shifts import shift_after
from core.validators import parse_id
from core.views import run_service
from residents.models import Resident, ResidentStatus
from residents.selectors import present_in_unit

from . import selectors, services
from .forms import AcknowledgeForm, NoteAmendForm, NoteForm
from .models import HandoffNote, ReportState, ShiftReport

READERS = CARE_STAFF


def _units(request) -> list[Unit]:
    """The facility's units by name (read once per request: the page lists them too)."""
    if not hasattr(request, "_units"):
        request._units = unit_list(facility=request.facility)
    return request._units


def _unit(request, raw) -> Unit | None:
    """The unit a page names (?unit=), else the facility's first (None when it has none);
    another facility's is a 404."""
    pk = parse_id(raw) if raw else None
    units = _units(request)
    if pk is not None:
        unit = next((unit for unit in units if unit.pk == pk), None)
        if unit is None:
            raise Http404("No such unit in this facility.")
        return unit
    return units[0] if units else None


def _posted_unit(request) -> Unit:
    unit = _unit(request, request.POST.get("unit"))
    if unit is None:
        raise Http404("This facility has no unit yet.")
    return unit


def _page_url(unit: Unit, shift) -> str:
    return f"{reverse('shift_report')}?unit={unit.pk}&shift={shift.key}"


def _residents(unit: Unit):
    return Resident.objects.filter(unit=unit, status=ResidentStatus.ACTIVE).order_by(
        "last_name", "first_name"
    )


def _resident_choices(unit: Unit) -> list[tuple[int, str]]:
    """The note form's residents: the unit's present ones, as the form words them."""
    return [(pk, f"{name} (room {room})") for pk, name, room in present_in_unit(unit=unit)]


def _render_report(request, unit, shift, *, note_form=None, ack_form=None, status=200):
    facility = request.facility
    now = timezone.now()
    view = selectors.report_for(facility=facility, unit=unit, shift=shift, now=now)
    report = view.report
    role = request.role
    running = shift.starts_at <= now < shift.ends_at
    may_submit = role in services.SUBMITTERS and (report is None or report.state == "open")
    may_acknowledge = (
        report is not None
        and report.state == ReportState.SUBMITTED
        and role in (*services.SUBMITTERS, Role.ADMIN)
    )
    # Notes are written whenever someone on the floor has one: after a submission they go to
    # the next shift's report.
    may_write = role in services.NOTE_WRITERS and shift.starts_at <= now < shift.ends_at
    if may_write and note_form is None:
        note_form = NoteForm(initial={"key": uuid.uuid4()}, residents=_resident_choices(unit))
    following = shift_after(shift, facility.shifts)
    context = {
        "view": view,
        "report": report,
        "unit": unit,
        "shift": shift,
        "running": running,
        "units": _units(request),
        "previous_url": _page_url(unit, selectors.previous_shift(facility=facility, shift=shift)),
        "next_url": _page_url(unit, following) if following.starts_at <= now else "",
        "note_form": note_form if may_write else None,
        "may_submit": may_submit,
        "ack_form": (ack_form or AcknowledgeForm()) if may_acknowledge else None,
        "may_amend_any": role == Role.NURSE,
    }
    return render(request, "handoff/report.html", context, status=status)


@facility_view(READERS, action="read shift reports")
def shift_report(request):
    """A unit's report of a shift (?unit=, ?shift=): live while it is open, frozen once
    submitted; the notes, the submission and the acknowledgement on the same page."""
    unit = _unit(request, request.GET.get("unit"))
    if unit is None:
        return render(request, "handoff/no_unit.html")
    shift = selectors.shift_from_key(
        facility=request.facility, key=request.GET.get("shift", ""), now=timezone.now()
    )
    return _render_report(request, unit, shift)


@facility_view(READERS, action="read shift reports")
def shift_report_detail(request, pk: int):
    """A report by its row (the inbox's link): its unit and shift's page."""
    report = scoped_get(ShiftReport.objects.select_related("unit"), request, pk=pk)
    shift = selectors.shift_from_key(
        facility=request.facility,
        key=f"{report.shift_day.isoformat()}/{report.shift_name}",
        now=timezone.now(),
    )
    return redirect(_page_url(report.unit, shift))


def _posted_scope(request):
    unit = _posted_unit(request)
    shift = selectors.shift_from_key(
        facility=request.facility, key=request.POST.get("shift", ""), now=timezone.now()
    )
    return unit, shift


@require_POST
@facility_view(services.NOTE_WRITERS, action="leave handoff notes")
def note_add(request):
    unit, shift = _posted_scope(request)
    form = NoteForm(request.POST, residents=_resident_choices(unit))
    if form.is_valid():
        resident = get_object_or_404(_residents(unit), pk=form.cleaned_data["resident"])
        note = run_service(
            form,
            lambda: services.handoff_note_add(
                actor=request.user,
                resident=resident,
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
                key=form.cleaned_data["key"],
            ),
        )
        if note is not None:
            messages.success(request, f"Note about {resident} added to the report.")
            return redirect(_page_url(unit, shift) + "#notes")
    return _render_report(request, unit, shift, note_form=form, status=400)


@facility_view(CARE_STAFF, action="amend handoff notes")
def note_amend(request, pk: int):
    note = scoped_get(
        HandoffNote.objects.select_related("resident", "written_by", "unit"), request, pk=pk
    )
    form = NoteAmendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.handoff_note_amend(actor=request.user, note=note, **form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, "Note amended; the original stays visible.")
            return redirect(f"{reverse('shift_report')}?unit={note.unit_id}#notes")
    return render(
        request,
        "handoff/note_amend.html",
        {"note": note, "form": form, "amendments": note.amendments.select_related("amended_by")},
    )


@require_POST
@facility_view(services.SUBMITTERS, action="submit shift reports")
def report_submit(request):
    unit, shift = _posted_scope(request)
    form = AcknowledgeForm()  # carries a refusal to the top of the page
    report = run_service(
        form,
        lambda: services.shift_report_submit(actor=request.user, unit=unit, shift=shift),
    )
    if report is not None:
        messages.success(
            request,
            f"{unit.name} {shift.label.lower()} shift report submitted: the incoming staff "
            "member acknowledges it below.",
        )
    else:
        messages.error(request, form.non_field_errors()[0])
    return redirect(_page_url(unit, shift))


@require_POST
@facility_view((*services.SUBMITTERS, Role.ADMIN), action="acknowledge shift reports")
def report_acknowledge(request, pk: int):
    report = scoped_get(ShiftReport.objects.select_related("unit", "facility"), request, pk=pk)
    shift = selectors.shift_from_key(
        facility=request.facility,
        key=f"{report.shift_day.isoformat()}/{report.shift_name}",
        now=timezone.now(),
    )
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        done = run_service(
            form,
            lambda: services.shift_report_acknowledge(
                actor=request.user,
                report=report,
                incoming_username=form.cleaned_data["incoming_username"],
                incoming_secret=form.cleaned_data["incoming_secret"],
                client_address=request.client_address,
            ),
        )
        if done is not None:
            messages.success(request, f"Report acknowledged by {done.acknowledged_by}.")
            return redirect(_page_url(report.unit, shift))
    return _render_report(request, report.unit, shift, ack_form=form, status=400)


@facility_view(WRITERS_CLINICAL, action="read the last 24 hours of shift reports")
def last_day(request):
    """Every unit's shift reports of the last 24 hours on one page (the submitted ones in full,
    from their snapshots), newest first."""
    rows = selectors.last_day_reports(facility=request.facility, now=timezone.now())
    return render(request, "handoff/last_day.html", {"rows": _with_views(rows)})


def _with_views(rows):
    """Each row with its frozen report (None until submitted) and its headings' id prefix."""
    return [
        (
            row,
            selectors.report_frozen(report=row.report, shift=row.shift)
            if row.report is not None and row.report.snapshot is not None
            else None,
            f"r{index}-",
        )
        for index, row in enumerate(rows)
    ]


@facility_view(WRITERS_CLINICAL, action="read the last 24 hours of shift reports")
def last_day_pdf(request):
    from .pdf import last_day_pdf_bytes

    now = timezone.now()
    rows = selectors.last_day_reports(facility=request.facility, now=now)
    content = last_day_pdf_bytes(facility=request.facility, rows=_with_views(rows), now=now)
    response = HttpResponse(content, content_type="application/pdf")
    stamp = now.astimezone(request.facility.tz).strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'inline; filename="shift-reports-{stamp}.pdf"'
    return response
