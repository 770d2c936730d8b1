from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import CARE_STAFF, facility_view, scoped_get
from core.validators import parse_id
from core.views import paginate, run_service
from mar.models import Administration, Alert, AlertKind, ScheduledDose
from residents.models import Resident

from . import rules, selectors, services
from .forms import AmendForm, CloseForm, FollowUpDeclineForm, FollowUpDoneForm, IncidentReportForm
from .models import Incident, IncidentFollowUp
from .rules import IncidentKind, IncidentState


def _record(request, resident: Resident, data):
    """The record or dose a medication error is raised from (?administration= / ?dose=), of
    this resident in the current facility; another's is a 404."""
    administration = dose = None
    raw_record, raw_dose = data.get("administration"), data.get("dose")
    if raw_record:
        administration = get_object_or_404(
            Administration.objects.select_related(
                "prescription__medication", "dose", "recorded_by"
            ),
            pk=parse_id(raw_record) or 0,
            facility=request.facility,
            resident=resident,
        )
        dose = administration.dose
    elif raw_dose:
        dose = get_object_or_404(
            ScheduledDose.objects.select_related("prescription__medication"),
            pk=parse_id(raw_dose) or 0,
            facility=request.facility,
            resident=resident,
        )
    return administration, dose


def _local(moment, tz):
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


@facility_view(services.REPORTERS, action="report an incident")
def incident_report_new(request, pk: int):
    """The report of one incident type; the type's links switch the form (no script needed).
    From a dose's record (?administration=) or a missed dose (?dose=) it is a medication error
    with the drug, the due time and the record filled in."""
    resident = scoped_get(Resident.objects.select_related("unit"), request, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    administration, dose = _record(request, resident, data)
    kind = data.get("kind", "")
    if administration or dose:
        kind = IncidentKind.MEDICATION_ERROR
    elif kind not in IncidentKind.values:
        kind = IncidentKind.FALL
    tz = request.facility.tz
    initial = {
        "kind": kind,
        "occurred_at": _local(timezone.now(), tz).replace(second=0, microsecond=0),
    }
    if administration or dose:
        order = (administration or dose).prescription
        initial |= {
            "prescription": order.pk,
            "administration": administration.pk if administration else "",
            "dose": dose.pk if dose else "",
            "occurred_at": _local(
                administration.administered_at if administration else dose.due_at, tz
            ),
        }
    orders = resident.orders.select_related("medication").order_by("medication__name", "pk")
    form = IncidentReportForm(request.POST or None, kind=kind, orders=orders, initial=initial)
    if request.method == "POST" and form.is_valid():
        facts = form.facts(tz)
        incident = run_service(
            form,
            lambda: services.incident_report(
                actor=request.user,
                resident=resident,
                kind=kind,
                occurred_at=facts.pop("occurred_at"),
                description=facts.pop("description"),
                discovered_by=facts.pop("discovered_by"),
                facts=facts,
                injuries=form.injuries(),
                prescription=form.cleaned_data.get("prescription"),
                administration=administration,
                dose=dose,
            ),
        )
        if incident is not None:
            messages.success(request, "Reported: the nurse has it in the alerts inbox now.")
            return redirect("incident_detail", pk=incident.pk)
    return render(
        request,
        "incidents/report_form.html",
        {
            "resident": resident,
            "form": form,
            "kind": kind,
            "kinds": IncidentKind.choices,
            "administration": administration,
            "dose": dose,
        },
    )


def _incident(request, pk: int) -> Incident:
    return scoped_get(
        Incident.objects.select_related(
            "resident__unit",
            "unit",
            "reported_by",
            "closed_by",
            "prescription__medication",
            "administration__recorded_by",
            "dose",
            "monitoring_episode",
        ),
        request,
        pk=pk,
    )


def _detail(request, incident: Incident, *, bound: dict | None = None):
    """The incident page; `bound` holds a refused form (by its key) to show with its errors."""
    bound = bound or {}
    page = selectors.incident_page(incident=incident, tz=request.facility.tz)
    nurse = request.role in services.NURSES and incident.state == IncidentState.OPEN
    cards = []
    for followup in page.followups:
        done = decline = None
        if nurse and followup.state == rules.FollowUpState.OPEN:
            done = bound.get(f"done{followup.pk}") or FollowUpDoneForm(
                prefix=f"done{followup.pk}", notification=followup.is_notification
            )
            if followup.is_notification:
                decline = bound.get(f"decline{followup.pk}") or FollowUpDeclineForm(
                    prefix=f"decline{followup.pk}"
                )
        cards.append({"followup": followup, "done": done, "decline": decline})
    alert = (
        Alert.objects.filter(
            kind=AlertKind.INCIDENT, subject=services.incident_subject(incident.pk)
        )
        .only("state")
        .first()
    )
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "page": page,
            "cards": cards,
            "alert": alert,
            "nurse": nurse,
            "amend_form": bound.get("amend")
            or (AmendForm(kind=incident.kind) if request.role in services.NURSES else None),
            "close_form": bound.get("close") or (CloseForm() if nurse else None),
        },
    )


@facility_view(CARE_STAFF)
def incident_detail(request, pk: int):
    return _detail(request, _incident(request, pk))


@require_POST
@facility_view(services.NURSES, action="amend incidents")
def incident_amend(request, pk: int):
    incident = _incident(request, pk)
    form = AmendForm(request.POST, kind=incident.kind)
    if form.is_valid():
        try:
            value = rules.fact_from_text(
                form.cleaned_data["field"], form.cleaned_data["value"], request.facility.tz
            )
        except ValueError as error:
            form.add_error("value", str(error))
        else:
            done = run_service(
                form,
                lambda: services.incident_amend(
                    actor=request.user,
                    incident=incident,
                    field=form.cleaned_data["field"],
                    value=value,
                    reason=form.cleaned_data["reason"],
                ),
            )
            if done is not None:
                messages.success(request, "Amended: the original stays shown beside it.")
                return redirect("incident_detail", pk=incident.pk)
    return _detail(request, incident, bound={"amend": form})


@require_POST
@facility_view(services.NURSES, action="close incidents")
def incident_close(request, pk: int):
    incident = _incident(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid() and run_service(
        form,
        lambda: services.incident_close(
            actor=request.user, incident=incident, note=form.cleaned_data["note"]
        ),
    ):
        messages.success(request, "Incident closed.")
        return redirect("incident_detail", pk=incident.pk)
    return _detail(request, incident, bound={"close": form})


def _settled(request, form) -> bool:
    """A refusal about the follow-up itself (already done by someone else, the incident closed
    meanwhile): its form is gone from the page, so the page says why at its top."""
    if form.refusal is not None and form.refusal.field is None:
        messages.error(request, form.refusal.message)
        return True
    return False


def _followup(request, pk: int) -> IncidentFollowUp:
    followup = get_object_or_404(
        IncidentFollowUp.objects.select_related("incident"),
        pk=pk,
        incident__facility=request.facility,
    )
    return followup


@require_POST
@facility_view(services.NURSES, action="complete follow-ups")
def followup_complete(request, pk: int):
    followup = _followup(request, pk)
    key = f"done{followup.pk}"
    form = FollowUpDoneForm(request.POST, prefix=key, notification=followup.is_notification)
    if form.is_valid():
        data = form.cleaned_data
        reached_at = data.get("reached_at")
        done = run_service(
            form,
            lambda: services.followup_complete(
                actor=request.user,
                followup=followup,
                note=data["note"],
                method=data.get("method", ""),
                reached=data.get("reached", ""),
                reached_at=rules.local_instant(reached_at, request.facility.tz)
                if reached_at
                else None,
                response=data.get("response", ""),
            ),
        )
        if done is not None:
            messages.success(request, f"{done.get_kind_display()}: recorded.")
        if done is not None or _settled(request, form):
            return redirect(reverse("incident_detail", args=[followup.incident_id]) + "#followups")
    return _detail(request, _incident(request, followup.incident_id), bound={key: form})


@require_POST
@facility_view(services.NURSES, action="decline notifications")
def followup_decline(request, pk: int):
    followup = _followup(request, pk)
    key = f"decline{followup.pk}"
    form = FollowUpDeclineForm(request.POST, prefix=key)
    if form.is_valid():
        done = run_service(
            form,
            lambda: services.followup_decline(
                actor=request.user, followup=followup, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(request, f"{done.get_kind_display()}: declined.")
        if done is not None or _settled(request, form):
            return redirect(reverse("incident_detail", args=[followup.incident_id]) + "#followups")
    return _detail(request, _incident(request, followup.incident_id), bound={key: form})


def _filters(request) -> selectors.ListFilters:
    month = None
    raw = (request.GET.get("month") or "").strip()
    if raw:
        parts = raw.split("-")
        if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts):
            year, number = int(parts[0]), int(parts[1])
            if 2000 <= year <= 2100 and 1 <= number <= 12:
                month = (year, number)
        if month is None:
            messages.warning(request, f"“{raw[:20]}” is not a month like 2026-03; showing all.")
    return selectors.ListFilters(
        unit_id=parse_id(request.GET.get("unit")),
        kind=request.GET.get("kind", ""),
        month=month,
        state=request.GET.get("state", ""),
    )


@facility_view(CARE_STAFF)
def incident_list(request):
    """The facility's incidents, by unit, type, month and state."""
    filters = _filters(request)
    page = paginate(request, selectors.incident_list(facility=request.facility, filters=filters))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "page": page,
            "filters": filters,
            "month": request.GET.get("month", "") if filters.month else "",
            "units": [(str(u.pk), u.name) for u in request.facility.units.order_by("name")],
            "kinds": IncidentKind.choices,
            "states": rules.IncidentState.choices,
            "query": query.urlencode(),
        },
    )
