"""The care pages: a resident's assessment, plan and this shift's care; the shift's care list.
Thin: the services decide, `run_service` puts their refusals beside the fields."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
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
from core.lookups import Refusal
from core.shifts import shift_at
from core.views import run_service
from residents.models import Resident
from residents.selectors import SESSION_PASSING, passing_resolve

from . import selectors, services
from .catalog import adl_template
from .forms import (
    AssessmentForm,
    CareAmendForm,
    CareItemForm,
    CareLevelForm,
    CareRecordForm,
    MonitoringCheckForm,
    MonitoringEndForm,
    with_record_forms,
)
from .models import (
    CareLevel,
    CareRecord,
    CareTask,
    MonitoringCheck,
    MonitoringEpisode,
    PlanStatus,
    ServicePlan,
    live_record_prefetch,
)
from .services.plans import plan_changes


def _resident(request, pk: int) -> Resident:
    return scoped_get(Resident.objects.select_related("unit", "facility"), request, pk=pk)


def _message(form) -> str:
    return " ".join(str(m) for messages_ in form.errors.values() for m in messages_)


@facility_view(CARE_STAFF)
def resident_care(request, pk: int):
    resident = _resident(request, pk)
    now = timezone.now()
    care = selectors.resident_care(resident=resident, now=now)
    with_record_forms(care.tasks)
    context = {"resident": resident, "care": care, "now": now}
    return render(request, "care/resident_care.html", context)


@facility_view(WRITERS_CLINICAL, action="assess residents")
def assessment_create(request, pk: int):
    resident = _resident(request, pk)
    form = AssessmentForm(request.POST or None, template=adl_template())
    if request.method == "POST" and form.is_valid():
        assessment = run_service(
            form,
            lambda: services.assessment_sign(
                resident=resident,
                template=adl_template(),
                answers=form.answers(),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                signed_by=request.user,
                now=timezone.now(),
            ),
        )
        if assessment is not None:
            level = f", {assessment.care_level}" if assessment.care_level else ""
            messages.success(request, f"Assessment signed: score {assessment.total_score}{level}.")
            return redirect("care_resident", pk=resident.pk)
    return render(request, "care/assessment_form.html", {"resident": resident, "form": form})


@require_POST
@facility_view(WRITERS_CLINICAL, action="draft service plans")
def plan_draft(request, pk: int):
    resident = _resident(request, pk)
    assessment = resident.assessments.first()
    form = forms.Form(request.POST)
    if assessment is None:
        messages.error(request, "Assess the resident first: the plan is made from it.")
        return redirect("care_resident", pk=resident.pk)
    plan = run_service(
        form,
        lambda: services.plan_draft_from_assessment(
            assessment=assessment, created_by=request.user, now=timezone.now()
        ),
    )
    if plan is None:
        messages.error(request, _message(form))
        return redirect("care_resident", pk=resident.pk)
    return redirect("care_plan", pk=plan.pk)


def _plan(request, pk: int) -> ServicePlan:
    return scoped_get(
        ServicePlan.objects.select_related("resident__unit", "published_by", "assessment"),
        request,
        pk=pk,
    )


@facility_view(CARE_STAFF)
def plan_detail(request, pk: int):
    plan = _plan(request, pk)
    items = list(plan.items.all())
    context = {"plan": plan, "items": items, "resident": plan.resident}
    if plan.status == PlanStatus.DRAFT:
        active = ServicePlan.objects.filter(
            resident_id=plan.resident_id, status=PlanStatus.ACTIVE
        ).first()
        context["changes"] = plan_changes(list(active.items.all()) if active else [], items)
        context["item_forms"] = [
            (
                item,
                CareItemForm(
                    initial={**_values(item), "category": item.category}, prefix=f"i{item.pk}"
                ),
            )
            for item in items
        ]
        context["add_form"] = CareItemForm(prefix="new")
    return render(request, "care/plan.html", context)


def _values(item) -> dict:
    return {
        "instructions": item.instructions,
        "planned_code": item.planned_code,
        "staff_count": item.staff_count,
        "shifts": item.shifts,
        "weekdays": item.weekdays,
        "minutes": item.minutes,
    }


@require_POST
@facility_view(WRITERS_CLINICAL, action="edit service plans")
def plan_item(request, pk: int):
    plan = _plan(request, pk)
    prefix = request.POST.get("prefix", "new")
    if prefix != "new" and not prefix.removeprefix("i").isdigit():
        prefix = "new"
    form = CareItemForm(request.POST, prefix=prefix)
    remove = request.POST.get("remove") == "1"
    if remove:
        category = request.POST.get(f"{prefix}-category", "")
        result = run_service(
            form,
            lambda: (
                services.plan_item_save(
                    plan=plan, category=category, values={}, user=request.user, remove=True
                )
                or True
            ),
        )
    elif form.is_valid():
        data = form.cleaned_data
        result = run_service(
            form,
            lambda: services.plan_item_save(
                plan=plan, category=data["category"], values=data, user=request.user
            ),
        )
    else:
        result = None
    if result is None:
        messages.error(request, _message(form) or "Check the care item.")
    else:
        messages.success(request, "Care item removed." if remove else "Care item saved.")
    return redirect("care_plan", pk=plan.pk)


@require_POST
@facility_view(WRITERS_CLINICAL, action="publish service plans")
def plan_publish(request, pk: int):
    plan = _plan(request, pk)
    form = forms.Form(request.POST)
    published = run_service(
        form,
        lambda: services.plan_publish(plan=plan, published_by=request.user, now=timezone.now()),
    )
    if published is None:
        messages.error(request, _message(form))
        return redirect("care_plan", pk=plan.pk)
    messages.success(request, "Service plan published: its care starts with the next shift.")
    return redirect("care_plan", pk=plan.pk)


@require_POST
@facility_view(CARE_STAFF)
def task_record(request, pk: int):
    task = scoped_get(CareTask.objects.select_related("item"), request, pk=pk)
    form = CareRecordForm(request.POST)
    record = None
    if form.is_valid():
        data = form.cleaned_data
        record = run_service(
            form,
            lambda: services.care_task_record(
                task_id=task.pk,
                status=data["status"],
                performance_code=data["performance_code"],
                reason=data["reason"],
                note=data["note"],
                user=request.user,
                now=timezone.now(),
            ),
        )
    if request.htmx:  # the line, swapped in place: its record, or the form with its messages
        return _task_line(request, task.pk, refused=form if record is None else None)
    if record is None:
        messages.error(request, f"{task.item.get_category_display()}: {_message(form)}")
    else:
        messages.success(
            request, f"{task.item.get_category_display()}: {record.get_status_display().lower()}."
        )
    if request.POST.get("back") == "pass":  # documented from the med pass page: back to it
        return redirect(f"{reverse('resident_pass', args=[task.resident_id])}#care")
    return redirect("care_resident", pk=task.resident_id)


# What a refused line keeps of what was typed (never more than the form's own inputs).
_TYPED = ("status", "performance_code", "reason")


def _task_line(request, task_id: int, *, refused: forms.Form | None):
    """One task's line for htmx (care/_task.html); after a record on the med pass page, the
    page's "to document" count too, out of band."""
    now = timezone.now()
    task = (
        CareTask.objects.select_related("item")
        .prefetch_related(live_record_prefetch())
        .get(pk=task_id)
    )
    with_record_forms([task])
    if refused is not None:
        errors = {name: " ".join(str(m) for m in found) for name, found in refused.errors.items()}
        errors["top"] = errors.pop("__all__", "")
        task.refusal = Refusal(errors, {name: request.POST.get(name, "")[:300] for name in _TYPED})
    back = "pass" if request.POST.get("back") == "pass" else ""
    context = {
        "task": task,
        "back": back,
        "shift_starts_at": shift_at(now, request.facility.shifts).starts_at,
    }
    response = render(request, "care/_task.html", context)
    if back and refused is None:
        count = selectors.care_to_document(resident_id=task.resident_id, now=now).count
        response.write(
            render_to_string("care/_count.html", {"count": count, "oob": True}, request=request)
        )
    return response


@facility_view(CARE_STAFF)
def shift_care(request):
    now = timezone.now()
    passing = passing_resolve(
        facility=request.facility,
        user=request.user,
        choice=request.session.get(SESSION_PASSING),
        now=now,
    )
    shift, rows = selectors.shift_care(facility=request.facility, now=now, passing=passing)
    return render(request, "care/shift.html", {"shift": shift, "rows": rows, "passing": passing})


@facility_view((Role.NURSE,), action="amend care records")
def record_amend(request, pk: int):
    record = scoped_get(
        CareRecord.objects.select_related("task__item", "resident", "recorded_by"), request, pk=pk
    )
    form = CareAmendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        amendment = run_service(
            form,
            lambda: services.care_record_amend(
                actor=request.user,
                record_id=record.pk,
                kind=data["kind"],
                reason=data["reason"],
                status=data["status"],
                performance_code=data["performance_code"],
                now=timezone.now(),
            ),
        )
        if amendment is not None:
            messages.success(request, f"Care record amended: {amendment.get_kind_display()}.")
            return redirect("care_resident", pk=record.resident_id)
    return render(request, "care/record_amend.html", {"record": record, "form": form})


@facility_view(WRITERS_ADMIN, action="change the care level table")
def care_levels(request):
    """The facility's table from assessment score to care level, and the form that adds one."""
    form = CareLevelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        level = run_service(
            form,
            lambda: services.care_level_save(
                actor=request.user, facility=request.facility, **form.cleaned_data
            ),
        )
        if level is not None:
            messages.success(request, f"“{level.name}” added to the care levels.")
            return redirect("care_levels")
    levels = CareLevel.objects.filter(facility=request.facility).order_by("lowest_score")
    return render(request, "care/levels.html", {"levels": levels, "form": form})


@facility_view(WRITERS_ADMIN, action="change the care level table")
def care_level_edit(request, pk: int):
    level = scoped_get(CareLevel, request, pk=pk)
    form = CareLevelForm(
        request.POST or None, initial={"name": level.name, "lowest_score": level.lowest_score}
    )
    if request.method == "POST" and form.is_valid():
        saved = run_service(
            form,
            lambda: services.care_level_save(
                actor=request.user, facility=request.facility, level=level, **form.cleaned_data
            ),
        )
        if saved is not None:
            messages.success(request, f"“{saved.name}” saved.")
            return redirect("care_levels")
    return render(request, "care/level_form.html", {"level": level, "form": form})


@require_POST
@facility_view(WRITERS_ADMIN, action="change the care level table")
def care_level_delete(request, pk: int):
    level = scoped_get(CareLevel, request, pk=pk)
    form = forms.Form(request.POST)
    name = run_service(form, lambda: services.care_level_delete(actor=request.user, level=level))
    if name is None:
        messages.error(request, _message(form))
    else:
        messages.success(request, f"“{name}” removed from the care levels.")
    return redirect("care_levels")


@require_POST
@facility_view(CARE_STAFF)
def check_record(request, pk: int):
    """Document a monitoring check in place (htmx: the check's block, and on the med pass page
    the "to document" count out of band); without htmx, back to the page it came from."""
    check = scoped_get(MonitoringCheck.objects.select_related("episode"), request, pk=pk)
    form = MonitoringCheckForm(request.POST)
    errors = {}
    if form.is_valid():
        saved = run_service(
            form,
            lambda: services.monitoring_check_record(
                actor=request.user,
                check_id=check.pk,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            ),
        )
        if saved is not None:
            check = saved
    if form.errors:
        errors = {name: " ".join(str(m) for m in found) for name, found in form.errors.items()}
        errors["top"] = errors.pop("__all__", "")
    back = "pass" if request.POST.get("back") == "pass" else ""
    if not request.htmx:
        if errors:
            messages.error(request, " ".join(v for v in errors.values() if v))
        else:
            messages.success(request, "Monitoring check saved.")
        if back:
            return redirect(f"{reverse('resident_pass', args=[check.resident_id])}#monitoring")
        return redirect(f"{reverse('care_resident', args=[check.resident_id])}#monitoring")
    now = timezone.now()
    context = {
        "check": check,
        "back": back,
        "check_errors": errors,
        "check_typed": {name: request.POST.get(name, "")[:1000] for name in ("status", "note")}
        if errors
        else {},
        "shift_starts_at": shift_at(now, request.facility.shifts).starts_at,
    }
    response = render(request, "care/_check.html", context)
    if back and not errors:
        count = selectors.care_to_document(resident_id=check.resident_id, now=now).count
        response.write(
            render_to_string("care/_count.html", {"count": count, "oob": True}, request=request)
        )
    return response


@facility_view((Role.NURSE,), action="end monitoring early")
def monitoring_end(request, pk: int):
    episode = scoped_get(
        MonitoringEpisode.objects.select_related("resident__unit", "started_by"), request, pk=pk
    )
    form = MonitoringEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ended = run_service(
            form,
            lambda: services.monitoring_end(
                actor=request.user, episode_id=episode.pk, note=form.cleaned_data["note"]
            ),
        )
        if ended is not None:
            messages.success(request, "Monitoring ended; the later checks are cancelled.")
            return redirect(f"{reverse('care_resident', args=[episode.resident_id])}#monitoring")
    return render(request, "care/monitoring_end.html", {"episode": episode, "form": form})
