"""A resident's service plans and documented care as FHIR R4 resources, for the bundle of
reports/fhir.py: each plan a CarePlan (its care items as activities; a newer plan `replaces`
the one it superseded), each care task documented or missed in the period a Task, and each
"done" record's level of help an Observation (CMS section GG code) the Task puts out.

Two queries whatever the number of plans and tasks."""

from django.db.models import Prefetch

from care.models import CareItem, CareTask, PlanStatus, ServicePlan, live_record_prefetch
from care.rules import GG_CODES
from residents.models import Resident

GG_SYSTEM = "urn:medtech:cms-section-gg"
_GG_WORDS = dict(GG_CODES)
_PLAN_STATUS = {
    PlanStatus.DRAFT: "draft",
    PlanStatus.ACTIVE: "active",
    PlanStatus.SUPERSEDED: "completed",
}
# A care task's state as a FHIR Task status (with the reason where not done).
_TASK_STATUS = {
    "done": ("completed", ""),
    "refused": ("rejected", "Refused by the resident"),
    "not_done": ("cancelled", "Not done"),
    "missed": ("failed", "Nothing documented before the shift ended"),
}


def care_entries(*, resident: Resident, start, end, patient_ref: dict, full_url, uuid_of, instant):
    """The bundle entries: CarePlans, then the period's Tasks and Observations."""
    plans = list(
        ServicePlan.objects.filter(resident=resident)
        .exclude(status=PlanStatus.DRAFT)
        .select_related("published_by")
        .prefetch_related(Prefetch("items", queryset=CareItem.objects.order_by("category")))
        .order_by("published_at", "pk")
    )
    tasks = (
        CareTask.objects.filter(
            resident=resident,
            window_opens_at__lt=end,
            window_closes_at__gte=start,
            state__in=list(_TASK_STATUS),
        )
        .select_related("item")
        .prefetch_related(live_record_prefetch())
        .order_by("window_opens_at", "pk")
    )
    entries = []
    previous = None
    for plan in plans:
        resource = {
            "resourceType": "CarePlan",
            "id": uuid_of("care-plan", plan.pk),
            "status": _PLAN_STATUS[plan.status],
            "intent": "plan",
            "title": "Service plan",
            "subject": patient_ref,
            "period": {"start": instant(plan.published_at)},
            "author": {"display": str(plan.published_by)},
            "activity": [
                {
                    "detail": {
                        "kind": "Task",
                        "code": {"text": item.get_category_display()},
                        "status": "scheduled" if plan.status == PlanStatus.ACTIVE else "stopped",
                        "description": (
                            f"{item.instructions}. Help expected: "
                            f"{_GG_WORDS[item.planned_code]}; {item.shifts_words} shift; "
                            f"{item.days_words.lower()}; {item.staff_count} staff, "
                            f"{item.minutes} minutes."
                        ),
                    }
                }
                for item in plan.items.all()
            ],
        }
        if plan.superseded_at:
            resource["period"]["end"] = instant(plan.superseded_at)
        if previous is not None:
            resource["replaces"] = [{"reference": full_url("care-plan", previous.pk)}]
        entries.append({"fullUrl": full_url("care-plan", plan.pk), "resource": resource})
        previous = plan
    for task in tasks:
        entries.extend(_task_entries(task, patient_ref, full_url, uuid_of, instant))
    return entries


def _task_entries(task: CareTask, patient_ref, full_url, uuid_of, instant) -> list[dict]:
    status, reason = _TASK_STATUS[task.state]
    record = task.record
    resource = {
        "resourceType": "Task",
        "id": uuid_of("care-task", task.pk),
        "status": status,
        "intent": "order",
        "code": {"text": task.item.get_category_display()},
        "description": task.item.instructions,
        "for": patient_ref,
        "basedOn": [{"reference": full_url("care-plan", task.item.plan_id)}],
        "executionPeriod": {
            "start": instant(task.window_opens_at),
            "end": instant(task.window_closes_at),
        },
    }
    entries = [{"fullUrl": full_url("care-task", task.pk), "resource": resource}]
    if record is None:
        resource["statusReason"] = {"text": reason}
        return entries
    resource["owner"] = {"display": str(record.recorded_by)}
    resource["lastModified"] = instant(record.recorded_at)
    if record.reason:
        resource["statusReason"] = {"text": record.reason}
    elif reason:
        resource["statusReason"] = {"text": reason}
    if record.status == "done" and record.performance_code:
        observation = {
            "resourceType": "Observation",
            "id": uuid_of("care-observation", record.pk),
            "status": "final",
            "basedOn": [{"reference": full_url("care-plan", task.item.plan_id)}],
            "code": {"text": f"Help needed: {task.item.get_category_display()}"},
            "subject": patient_ref,
            "effectiveDateTime": instant(record.performed_at),
            "performer": [{"display": str(record.recorded_by)}],
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": GG_SYSTEM,
                        "code": record.performance_code,
                        "display": _GG_WORDS[record.performance_code],
                    }
                ],
                "text": _GG_WORDS[record.performance_code],
            },
        }
        resource["output"] = [
            {
                "type": {"text": "Level of help given"},
                "valueReference": {"reference": full_url("care-observation", record.pk)},
            }
        ]
        entries.append(
            {"fullUrl": full_url("care-observation", record.pk), "resource": observation}
        )
    return entries
