from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.permissions import CARE_STAFF, facility_view, scoped_get
from core.views import run_service
from mar.models import Alert, AlertKind
from residents.models import Resident

from . import services
from .forms import ConditionReportForm
from .models import ConditionReport


@facility_view(services.REPORTERS, action="report a change of condition")
def condition_report_new(request, pk: int):
    """The checklist a med tech or caregiver fills in under a minute."""
    resident = scoped_get(Resident.objects.select_related("unit"), request, pk=pk)
    form = ConditionReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        report = run_service(
            form,
            lambda: services.condition_report(
                actor=request.user,
                resident=resident,
                changes=form.cleaned_data["changes"],
                note=form.cleaned_data["note"],
            ),
        )
        if report is not None:
            messages.success(request, "Reported: the nurse has it in the alerts inbox now.")
            return redirect("condition_report", pk=report.pk)
    return render(request, "clinical/report_form.html", {"resident": resident, "form": form})


@facility_view(CARE_STAFF)
def condition_report(request, pk: int):
    report = scoped_get(
        ConditionReport.objects.select_related("resident__unit", "reported_by"), request, pk=pk
    )
    alert = (
        Alert.objects.filter(
            kind=AlertKind.CHANGE_OF_CONDITION, subject=services.condition_subject(report.pk)
        )
        .select_related("acknowledged_by")
        .first()
    )
    return render(request, "clinical/report.html", {"report": report, "alert": alert})
