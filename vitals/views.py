"""The flowsheet's pages (thin: services write, selectors read)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import (
    CARE_STAFF,
    WRITERS_ADMIN,
    WRITERS_CLINICAL,
    facility_view,
    scoped_get,
)
from core.views import paginate, run_service
from residents.models import Resident
from residents.selectors import resident_of_facility

from . import selectors, services
from .forms import AcknowledgeForm, RangeForm, ReadingsForm, ResidentRangeForm
from .models import (
    VITAL_UNITS,
    ReadingSource,
    ResidentVitalRange,
    VitalException,
    VitalRange,
    VitalSign,
)

NURSES = (Role.NURSE,)


def _resident(request, pk: int) -> Resident:
    resident = resident_of_facility(facility=request.facility, pk=pk)
    if resident is None:
        raise Http404("No such resident in this facility.")
    return resident


@facility_view(CARE_STAFF)
def flowsheet(request, pk: int):
    """The resident's charts, readings and open exceptions; the form that records vitals."""
    resident = _resident(request, pk)
    days = selectors.period_days(request.GET.get("days"))
    form = ReadingsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        readings = run_service(
            form,
            lambda: services.readings_record(
                actor=request.user,
                resident=resident,
                values=form.values(),
                source=ReadingSource.FLOWSHEET,
            ),
        )
        if readings is not None:
            out = sum(1 for r in readings if r.out_of_range)
            count = len(readings)
            messages.success(
                request,
                f"{count} reading{'s' if count != 1 else ''} recorded"
                + (f"; {out} out of range, the nurse is alerted." if out else "."),
            )
            return redirect(f"{reverse('flowsheet', args=[resident.pk])}?days={days}")
    sheet = selectors.flowsheet(
        resident=resident, days=days, now=timezone.now(), page=request.GET.get("page")
    )
    return render(
        request,
        "vitals/flowsheet.html",
        {
            "resident": resident,
            "sheet": sheet,
            "form": form,
            "may_record": request.role != Role.ADMIN,
            "may_acknowledge": request.role in NURSES,
            "acknowledge_form": AcknowledgeForm(),
        },
    )


@facility_view(WRITERS_CLINICAL)
def exception_list(request):
    """The facility's open exceptions, newest first, each with its acknowledgement form."""
    page = paginate(request, selectors.open_exceptions(facility_id=request.facility.pk))
    rows = selectors.exception_rows(page.object_list, request.facility.tz)
    return render(
        request,
        "vitals/exceptions.html",
        {
            "page": page,
            "rows": rows,
            "may_acknowledge": request.role in NURSES,
            "acknowledge_form": AcknowledgeForm(),
        },
    )


@facility_view(NURSES, action="acknowledge an out-of-range reading")
def exception_acknowledge(request, pk: int):
    exception = scoped_get(
        VitalException.objects.select_related("reading__taken_by", "resident__unit"),
        request,
        pk=pk,
    )
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_service(
            form,
            lambda: services.exception_acknowledge(
                actor=request.user, exception=exception, note=form.cleaned_data["note"]
            ),
        )
        if done is not None:
            messages.success(request, f"Acknowledged: {exception.resident}'s reading.")
            back = request.POST.get("back")
            if back == "flowsheet":
                return redirect("flowsheet", pk=exception.resident_id)
            return redirect("vital_exceptions")
    row = selectors.exception_rows([exception], request.facility.tz)[0]
    return render(request, "vitals/acknowledge.html", {"row": row, "form": form})


@facility_view(WRITERS_ADMIN, action="change the vital sign ranges")
def range_list(request):
    ranges = VitalRange.objects.filter(facility=request.facility)
    rows = sorted((selectors.FacilityRangeRow.of(r) for r in ranges), key=lambda row: row.order)
    return render(request, "vitals/ranges.html", {"rows": rows})


@facility_view(WRITERS_ADMIN, action="change the vital sign ranges")
def range_edit(request, pk: int):
    vital_range = scoped_get(VitalRange, request, pk=pk)
    form = RangeForm(
        request.POST or None,
        initial={"low": _plain(vital_range.low), "high": _plain(vital_range.high)},
    )
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.vital_range_save(
                actor=request.user,
                facility=request.facility,
                kind=vital_range.kind,
                **form.cleaned_data,
            ),
        )
        if saved is not None:
            messages.success(request, f"{saved.get_kind_display()} range saved.")
            return redirect("vital_ranges")
    unit = VITAL_UNITS[VitalSign(vital_range.kind)]
    return render(
        request,
        "vitals/range_form.html",
        {"vital_range": vital_range, "form": form, "unit": unit},
    )


def _plain(value) -> str:
    return f"{value.normalize():f}" if value is not None else ""


@facility_view(NURSES, action="set a resident's own vital sign range")
def resident_ranges(request, pk: int):
    resident = _resident(request, pk)
    form = ResidentRangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.resident_range_save(
                actor=request.user, resident=resident, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"{resident}'s own {saved.get_kind_display()} range saved.")
            return redirect("resident_vital_ranges", pk=resident.pk)
    return render(
        request,
        "vitals/resident_ranges.html",
        {"resident": resident, "ranges": selectors.ranges_for(resident), "form": form},
    )


@require_POST
@facility_view(NURSES, action="change a resident's own vital sign range")
def resident_range_remove(request, pk: int):
    own = get_object_or_404(
        ResidentVitalRange.objects.select_related("resident"),
        pk=pk,
        resident__facility=request.facility,
    )
    form = forms.Form(request.POST)
    label = run_service(
        form, lambda: services.resident_range_remove(actor=request.user, resident_range=own)
    )
    if label is None:
        messages.error(request, " ".join(form.non_field_errors()))
    else:
        messages.success(
            request, f"{own.resident} is judged by the facility's {label} range again."
        )
    return redirect("resident_vital_ranges", pk=own.resident_id)
