from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Unit
from accounts.permissions import EVERYONE, WRITERS_CLINICAL, facility_view, scoped_get
from meds import selectors as order_selectors
from meds.models import Prescription
from medtech.errors import DomainError
from medtech.views_util import paginate

from . import selectors, services
from .models import Alert, AlertKind


@facility_view(EVERYONE)
def order_detail(request, pk: int):
    """The order with its history and its next doses (the dose engine's view of it)."""
    try:
        order = order_selectors.order_detail(facility=request.facility, pk=pk)
    except Prescription.DoesNotExist:
        order = scoped_get(Prescription, request, pk=pk)  # raises 404
    doses = selectors.dose_list_for_order(
        order=order, since=timezone.now() - timezone.timedelta(hours=12)
    )
    return render(
        request,
        "mar/order_detail.html",
        {"order": order, "doses": doses, "tz": request.facility.tz},
    )


@facility_view(WRITERS_CLINICAL, action="work the alerts inbox")
def alert_list(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in AlertKind.values else ""
    try:
        unit_id = int(request.GET.get("unit") or 0) or None
    except ValueError:
        unit_id = None
    alerts = selectors.alert_list(facility=request.facility, kind=kind, unit_id=unit_id)
    page = paginate(request, alerts)
    return render(
        request,
        "mar/alert_list.html",
        {
            "page": page,
            "kind": kind,
            "unit_id": unit_id,
            "kinds": AlertKind.choices,
            "units": Unit.objects.filter(facility=request.facility),
        },
    )


@require_POST
@facility_view(WRITERS_CLINICAL, action="acknowledge alerts")
def alert_acknowledge(request, pk: int):
    alert = scoped_get(Alert, request, pk=pk)
    try:
        services.alert_acknowledge(actor=request.user, alert=alert)
        messages.success(request, "Alert acknowledged.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("alert_list")


@require_POST
@facility_view(WRITERS_CLINICAL, action="resolve alerts")
def alert_resolve(request, pk: int):
    alert = scoped_get(Alert, request, pk=pk)
    try:
        services.alert_resolve(actor=request.user, alert=alert, note=request.POST.get("note", ""))
        messages.success(request, "Alert resolved.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("alert_list")
