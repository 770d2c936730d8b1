from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import CARE_STAFF, facility_view, scoped_get
from core.errors import DomainError
from core.time import local_stamp
from core.views import run_service
from mar.models import Alert, AlertKind
from residents.models import Resident
from vitals.forms import ReadingsForm

from . import selectors, services
from .forms import ConditionReportForm, EvaluationForm, NotificationForm
from .models import ConditionReport
from .rules import NotifiedParty


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
    """The report and everything that followed: the alert, the nurse's SBAR, the notifications
    (a nurse records them here, and closes), the monitoring it started."""
    return _render_report(request, _report(request, pk))


def _render_report(request, report, *, notify_form=None, close_error: str = ""):
    evaluation = selectors.evaluation_of(report)
    # A form for each party not yet notified (nor declined); a refused one keeps what was typed.
    done = {n.party for n in evaluation.notifications.all()} if evaluation else set()
    stamp = timezone.now().astimezone(request.facility.tz).strftime("%Y-%m-%dT%H:%M")
    forms = {
        party: NotificationForm(initial={"party": party, "reached_at": stamp})
        for party in NotifiedParty.values
        if party not in done
    }
    if notify_form is not None:
        forms[notify_form.data.get("party")] = notify_form
    context = {
        "report": report,
        "alert": _alert(report),
        "evaluation": evaluation,
        "missing": selectors.parties_missing(evaluation) if evaluation else [],
        "notification_forms": [
            (NotifiedParty(party).label, forms[party])
            for party in NotifiedParty.values
            if party in forms
        ],
        "close_error": close_error,
    }
    return render(request, "clinical/report.html", context)


@require_POST
@facility_view((Role.NURSE,), action="record notifications")
def condition_notify(request, pk: int):
    """The physician or the representative reached (or not, with the reason)."""
    report = _report(request, pk)
    evaluation = selectors.evaluation_of(report)
    form = NotificationForm(request.POST)
    if evaluation is None:
        form.is_valid()
        form.add_error(None, "Evaluate the change of condition first.")
    elif form.is_valid() and _notify(request, form, evaluation) is not None:
        messages.success(request, "Notification recorded.")
        return redirect("condition_report", pk=report.pk)
    if form.data.get("party") not in NotifiedParty.values:
        return _render_report(
            request, report, close_error="Choose the physician or the representative."
        )
    return _render_report(request, _report(request, pk), notify_form=form)


@require_POST
@facility_view((Role.NURSE,), action="close changes of condition")
def condition_close(request, pk: int):
    report = _report(request, pk)
    evaluation = selectors.evaluation_of(report)
    if evaluation is None:
        return _render_report(request, report, close_error="Evaluate it first.")
    try:
        services.condition_close(actor=request.user, evaluation_id=evaluation.pk)
    except DomainError as error:
        return _render_report(request, report, close_error=error.message)
    messages.success(request, "Closed: the alert is resolved.")
    return redirect("condition_report", pk=report.pk)


def _report(request, pk: int) -> ConditionReport:
    """The facility's report with what followed (another facility's report is not found)."""
    report = selectors.report_with_evaluation(
        ConditionReport.objects.filter(facility=request.facility), pk
    )
    if report is None:
        raise Http404("No such report here.")
    return report


def _alert(report: ConditionReport) -> Alert | None:
    return (
        Alert.objects.filter(
            kind=AlertKind.CHANGE_OF_CONDITION, subject=services.condition_subject(report.pk)
        )
        .select_related("acknowledged_by")
        .first()
    )


def _notify(request, form: NotificationForm, evaluation):
    data = form.cleaned_data
    reached_at = data["reached_at"]
    if reached_at is not None:
        reached_at = reached_at.replace(tzinfo=None).replace(tzinfo=request.facility.tz)
    return run_service(
        form,
        lambda: services.condition_notify(
            actor=request.user,
            evaluation_id=evaluation.pk,
            party=data["party"],
            method=data["method"],
            person_reached=data["person_reached"],
            reached_at=reached_at,
            response=data["response"],
            response_note=data["response_note"],
            declined_reason=data["declined_reason"],
        ),
    )


@facility_view((Role.NURSE,), action="evaluate a change of condition")
def condition_evaluate(request, pk: int):
    """The nurse's SBAR, its background drawn from the record."""
    report = _report(request, pk)
    if selectors.evaluation_of(report) is not None:
        return redirect("condition_report", pk=report.pk)
    now = timezone.now()
    initial = {
        "situation": _situation(report),
        "background": selectors.background_words(resident=report.resident, now=now),
    }
    form = EvaluationForm(request.POST or None, initial=initial)
    vitals = ReadingsForm(request.POST or None, prefix="vital", optional=True)
    if request.method == "POST" and form.is_valid() and vitals.is_valid():
        data = form.cleaned_data
        evaluation = run_service(
            form,
            lambda: services.condition_evaluate(
                actor=request.user,
                report_id=report.pk,
                situation=data["situation"],
                background=data["background"],
                assessment=data["assessment"],
                recommendation=data["recommendation"],
                monitor_hours=data["monitor_hours"] if data["monitor"] else None,
                readings=vitals.values(),
            ),
        )
        if evaluation is not None:
            messages.success(request, "Evaluation saved. Now notify the physician and family.")
            return redirect("condition_report", pk=report.pk)
    context = {"report": report, "form": form, "vitals": vitals}
    return render(request, "clinical/evaluate.html", context)


def _situation(report: ConditionReport) -> str:
    note = f" {report.reported_by} wrote: “{report.note}”" if report.note else ""
    return (
        f"{report.resident} — reported {local_stamp(report.reported_at, report.facility.tz)} "
        f"by {report.reported_by}: {report.changes_words}.{note}"
    )
