from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Unit
from accounts.permissions import (
    EVERYONE,
    WRITERS_ADMIN,
    WRITERS_CLINICAL,
    facility_view,
    scoped_get,
)
from core.errors import DomainError
from core.validators import parse_id, search_text
from core.views import paginate, run_service

from . import selectors, services
from .forms import AllergyForm, DischargeForm, ResidentForm, StatusChangeForm
from .models import Allergy, Resident, ResidentStatus


@facility_view(EVERYONE)
def resident_list(request):
    query = search_text(request.GET.get("q"))
    status = request.GET.get("status", "")
    if status not in ResidentStatus.values:
        status = ""
    unit_id = parse_id(request.GET.get("unit"))
    residents = selectors.resident_list(
        facility=request.facility, query=query, unit_id=unit_id, status=status
    )
    page = paginate(request, residents)
    template = "residents/_list_rows.html" if request.htmx else "residents/list.html"
    response = render(
        request,
        template,
        {
            "page": page,
            "query": query,
            "status": status,
            "unit_id": unit_id,
            "units": Unit.objects.filter(facility=request.facility),
            "statuses": ResidentStatus.choices,
        },
    )
    response["Vary"] = "HX-Request"
    return response


@facility_view(EVERYONE)
def resident_detail(request, pk: int):
    try:
        resident = selectors.resident_profile(facility=request.facility, pk=pk)
    except Resident.DoesNotExist:
        raise Http404 from None
    return render(request, "residents/detail.html", {"resident": resident})


@facility_view(WRITERS_ADMIN, action="admit residents")
def resident_admit(request):
    form = ResidentForm(request.POST or None, request.FILES or None, facility=request.facility)
    if request.method == "POST" and form.is_valid():
        details = {k: v for k, v in form.cleaned_data.items() if v is not None}
        if not details.get("photo"):
            details.pop("photo", None)
        resident = run_service(
            form,
            lambda: services.resident_admit(
                actor=request.user, facility=request.facility, **details
            ),
        )
        if resident is not None:
            messages.success(request, f"{resident.display_name} admitted.")
            return redirect("resident_detail", pk=resident.pk)
    return render(request, "residents/form.html", {"form": form, "title": "Admit a resident"})


@facility_view(WRITERS_ADMIN, action="edit residents")
def resident_edit(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    form = ResidentForm(
        request.POST or None, request.FILES or None, instance=resident, facility=request.facility
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if "photo" in changes and changes["photo"] is False:
            changes["photo"] = ""
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("resident_detail", pk=resident.pk)
        fresh = Resident.objects.get(pk=resident.pk)  # the form mutated `resident` in place
        saved = run_service(
            form, lambda: services.resident_update(actor=request.user, resident=fresh, **changes)
        )
        if saved is not None:
            messages.success(request, "Resident details saved.")
            return redirect("resident_detail", pk=resident.pk)
    return render(
        request,
        "residents/form.html",
        {"form": form, "title": f"Edit {resident.display_name}", "resident": resident},
    )


@facility_view(WRITERS_ADMIN, action="change a resident's status")
def resident_status(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    if resident.status == ResidentStatus.DISCHARGED:
        messages.error(request, f"{resident.display_name} is discharged; readmit them instead.")
        return redirect("resident_detail", pk=resident.pk)
    form = StatusChangeForm(request.POST or None, resident=resident)
    if request.method == "POST" and form.is_valid():
        change = run_service(
            form,
            lambda: services.resident_change_status(
                actor=request.user,
                resident=resident,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if change is not None:
            messages.success(request, f"{resident.display_name} is now {change.status_words}.")
            return redirect("resident_detail", pk=resident.pk)
    return render(request, "residents/status.html", {"form": form, "resident": resident})


@facility_view(WRITERS_ADMIN, action="discharge residents")
def resident_discharge(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    form = DischargeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        change = run_service(
            form,
            lambda: services.resident_discharge(
                actor=request.user, resident=resident, reason=form.cleaned_data["reason"]
            ),
        )
        if change is not None:
            messages.success(request, f"{resident.display_name} discharged.")
            return redirect("resident_detail", pk=resident.pk)
    return render(request, "residents/discharge.html", {"form": form, "resident": resident})


@facility_view(WRITERS_ADMIN, action="record allergies")
def allergy_add(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    form = AllergyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allergy = run_service(
            form,
            lambda: services.allergy_add(
                actor=request.user, resident=resident, **form.cleaned_data
            ),
        )
        if allergy is not None:
            messages.success(request, f"Allergy to {allergy.substance} recorded.")
            return redirect("resident_detail", pk=resident.pk)
    return render(request, "residents/allergy_form.html", {"form": form, "resident": resident})


@facility_view(WRITERS_ADMIN, action="remove allergies")
def allergy_remove(request, pk: int, allergy_pk: int):
    """Removing an allergy entered in error cannot be undone from the page: it is confirmed on
    a page that names the allergy and the resident; nothing changes until the POST."""
    resident = scoped_get(Resident, request, pk=pk)
    allergy = get_object_or_404(
        Allergy.objects.select_related("recorded_by"), pk=allergy_pk, resident=resident
    )
    if request.method == "POST":
        services.allergy_remove(actor=request.user, allergy=allergy)
        messages.success(
            request, f"Allergy to {allergy.substance} removed from {resident.display_name}."
        )
        return redirect("resident_detail", pk=resident.pk)
    others = resident.allergies.exclude(pk=allergy.pk).count()
    return render(
        request,
        "residents/allergy_remove.html",
        {"resident": resident, "allergy": allergy, "last_one": others == 0},
    )


@require_POST
@facility_view(WRITERS_ADMIN, action="record allergies")
def resident_nkda(request, pk: int):
    resident = scoped_get(Resident, request, pk=pk)
    try:
        services.resident_mark_nkda(actor=request.user, resident=resident)
        messages.success(request, "Recorded: no known drug allergies.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("resident_detail", pk=resident.pk)


@facility_view(WRITERS_CLINICAL, action="read the audit trail")
def resident_audit(request, pk: int):
    """The resident's trail is the reports' (it reads rows of the apps above this one: orders'
    status changes, amendments, stock); this address stays for old links."""
    resident = scoped_get(Resident, request, pk=pk)
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return redirect(reverse("report_audit_resident", args=[resident.pk]) + query)


@facility_view(EVERYONE)
def resident_photo(request, pk: int):
    """Photos are health records: served only to staff of the resident's facility."""
    resident = scoped_get(Resident, request, pk=pk)
    if not resident.photo:
        raise Http404
    response = FileResponse(resident.photo.open("rb"))
    response["Cache-Control"] = "private, max-age=300"
    return response
