"""The alerts inbox: grouped, filtered, worked one by one or several with one note."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Unit
from accounts.permissions import WRITERS_CLINICAL, facility_view, scoped_get
from core.validators import parse_id
from core.views import run_service
from core.words import counted

from . import services
from .alert_forms import AlertBulkAcknowledgeForm
from .forms import AlertResolveForm
from .inbox import GROUPINGS, AlertFilters, alert_inbox
from .models import Alert, AlertKind, AlertSeverity


def _filters(params: QueryDict) -> AlertFilters:
    kind = params.get("kind", "")
    severity = parse_id(params.get("severity"))
    group = params.get("group", "resident")
    return AlertFilters(
        kind=kind if kind in AlertKind.values else "",
        unit_id=parse_id(params.get("unit")),
        severity=severity if severity in AlertSeverity.values else None,
        group=group if group in GROUPINGS else "resident",
        rollup_id=parse_id(params.get("rollup")),
    )


def _render_inbox(request, params: QueryDict, form: AlertBulkAcknowledgeForm):
    filters = _filters(params)
    inbox = alert_inbox(facility=request.facility, filters=filters, page_number=params.get("page"))
    return render(
        request,
        "mar/alert_list.html",
        {
            "inbox": inbox,
            "page": inbox.page,
            "filters": filters,
            "back": params.urlencode(),
            "form": form,
            "groupings": [
                (value, label, filters.query(group=value, page=""), value == filters.group)
                for value, label in GROUPINGS.items()
            ],
            "kinds": AlertKind.choices,
            "severities": sorted(AlertSeverity.choices, reverse=True),
            "units": Unit.objects.filter(facility=request.facility),
        },
    )


@facility_view(WRITERS_CLINICAL, action="work the alerts inbox")
def alert_list(request):
    return _render_inbox(request, request.GET, AlertBulkAcknowledgeForm())


def _back(request):
    """To the inbox as it was (its filters, group and page), from the form's hidden `back`."""
    params = QueryDict(request.POST.get("back", ""))
    query = _filters(params).query(page=parse_id(params.get("page")) or "")
    return redirect(reverse("alert_list") + (f"?{query}" if query else ""))


@require_POST
@facility_view(WRITERS_CLINICAL, action="acknowledge alerts")
def alerts_acknowledge(request):
    """Several alerts (ticked one by one or a whole group) acknowledged with one note."""
    form = AlertBulkAcknowledgeForm(request.POST)
    count = form.is_valid() and run_service(
        form,
        lambda: services.alerts_acknowledge(
            actor=request.user,
            facility=request.facility,
            alert_ids=form.cleaned_data["alerts"],
            note=form.cleaned_data["note"],
        ),
    )
    if not count:
        # Refused: the inbox again, as it was, with the message beside the note.
        return _render_inbox(request, QueryDict(request.POST.get("back", "")), form)
    messages.success(request, f"{counted(count, 'alert', 'alerts')} acknowledged with your note.")
    return _back(request)


def _work_one(request, pk: int, service, done: str):
    """Acknowledge or resolve one alert with its note; back to the inbox as it was."""
    alert = scoped_get(Alert, request, pk=pk)
    form = AlertResolveForm(request.POST)
    if form.is_valid() and run_service(
        form,
        lambda: service(actor=request.user, alert=alert, note=form.cleaned_data["note"]),
    ):
        messages.success(request, done)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _back(request)


@require_POST
@facility_view(WRITERS_CLINICAL, action="acknowledge alerts")
def alert_acknowledge(request, pk: int):
    return _work_one(request, pk, services.alert_acknowledge, "Alert acknowledged.")


@require_POST
@facility_view(WRITERS_CLINICAL, action="resolve alerts")
def alert_resolve(request, pk: int):
    return _work_one(request, pk, services.alert_resolve, "Alert resolved.")
