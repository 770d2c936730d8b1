"""Documenting care: one record per task, append-only."""

import datetime

from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.time import current_stamp

from .. import rules
from ..models import (
    CareAmendment,
    CareAmendmentKind,
    CareRecord,
    CareStatus,
    CareTask,
    TaskState,
)
from ..signals import care_reassessment_suggested

# Who documents care: everyone on the floor (a caregiver documents care, never medications).
DOCUMENTERS = (Role.CAREGIVER, Role.MED_TECH, Role.NURSE, Role.ADMIN)
_STATE_FOR = {
    CareStatus.DONE: TaskState.DONE,
    CareStatus.REFUSED: TaskState.REFUSED,
    CareStatus.NOT_DONE: TaskState.NOT_DONE,
}
# A task may still be documented late (with a reason) for this long after its shift ended.
LATE_ENTRY_LIMIT = datetime.timedelta(hours=24)


@transaction.atomic
def care_task_record(
    *,
    task_id: int,
    status: str,
    user: User,
    now: datetime.datetime,
    performance_code: str = "",
    reason: str = "",
    note: str = "",
) -> CareRecord:
    """Document one task: done with the level of help observed (GG code), or refused / not done
    with a reason. Outside the task's shift a reason is required."""
    task = (
        CareTask.objects.select_for_update(of=("self",))
        .select_related("item", "resident__facility")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise DomainError("This care task no longer exists.")
    if membership_role(user=user, facility_id=task.facility_id) not in DOCUMENTERS:
        raise DomainError("Your role does not document care in this facility.")
    if task.state not in (TaskState.DUE, TaskState.OVERDUE, TaskState.MISSED):
        raise DomainError(
            f"{task.item.get_category_display()} on this shift is already "
            f"{task.get_state_display().lower()}."
        )
    if status not in _STATE_FOR:
        raise DomainError("Choose done, refused or not done.", field="status")
    reason = reason.strip()
    if status == CareStatus.DONE:
        if performance_code not in dict(rules.GG_PERFORMANCE):
            raise DomainError("Choose the level of help given.", field="performance_code")
    else:
        performance_code = "07" if status == CareStatus.REFUSED else ""
        if not reason:
            raise DomainError("Say why the care was not given.", field="reason")
    outside = not (task.window_opens_at <= now < task.window_closes_at)
    if outside and not reason:
        raise DomainError(
            "This is outside the task's shift: say why it is documented now.", field="reason"
        )
    if now >= task.window_closes_at + LATE_ENTRY_LIMIT:
        raise DomainError(
            f"The shift ended {current_stamp(task.window_closes_at)}: more than "
            "24 hours ago. Write a late entry note with your nurse instead."
        )
    record = CareRecord.objects.create(
        task=task,
        facility_id=task.facility_id,
        resident_id=task.resident_id,
        status=status,
        performance_code=performance_code,
        reason=reason,
        note=note.strip(),
        performed_at=now,
        recorded_by=user,
        recorded_at=now,
    )
    task.state = _STATE_FOR[status]
    task.state_changed_at = now
    task.save(update_fields=["state", "state_changed_at"])
    if rules.worse_than_planned(performance_code, task.item.planned_code):
        _suggest_reassessment(task, now)
    return record


def _suggest_reassessment(task: CareTask, now: datetime.datetime) -> None:
    """Performance worse than planned WORSE_THAN_PLANNED_TIMES times in the last
    WORSE_THAN_PLANNED_DAYS days, in this ADL category: say so once (the alert's key)."""
    since = now - datetime.timedelta(days=rules.WORSE_THAN_PLANNED_DAYS)
    records = CareRecord.objects.filter(
        resident_id=task.resident_id,
        task__item__category=task.item.category,
        status=CareStatus.DONE,
        voided=False,
        performed_at__gt=since,
    ).values_list("performed_at", "performance_code", "task__item__planned_code")
    worse = [at for at, code, planned in records if rules.worse_than_planned(code, planned)]
    if rules.worse_count_reached(worse, now):
        care_reassessment_suggested.send(
            sender=CareRecord, resident=task.resident, category=task.item.category, at=now
        )


@transaction.atomic
def care_record_amend(
    *,
    actor: User,
    record_id: int,
    kind: str,
    reason: str,
    now: datetime.datetime,
    status: str = "",
    performance_code: str = "",
) -> CareAmendment:
    """A nurse amends a care record; the record itself never changes. "Entered in error" takes
    it off the task, which is documented again (the sweep moves it on if its shift is over); a
    correction says what the record should have said (status, level of help)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the amendment.", field="reason")
    if kind not in CareAmendmentKind.values:
        raise DomainError("Choose the kind of amendment.", field="kind")
    record = (
        CareRecord.objects.select_for_update(of=("self",))
        .select_related("task")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise DomainError("This care record no longer exists.")
    if membership_role(user=actor, facility_id=record.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse can amend a care record.")
    if record.voided:
        raise DomainError("This record was already marked entered in error.")
    changes = {}
    if kind == CareAmendmentKind.CORRECTION:
        if status and status not in CareStatus.values:
            raise DomainError("Choose done, refused or not done.", field="status")
        if performance_code and performance_code not in dict(rules.GG_CODES):
            raise DomainError("Choose a level of help.", field="performance_code")
        changes = {
            key: value
            for key, value in (("status", status), ("performance_code", performance_code))
            if value and value != getattr(record, key)
        }
        if not changes:
            raise DomainError("Say what the correction changes.", field="performance_code")
    amendment = CareAmendment.objects.create(
        record=record, kind=kind, reason=reason, changes=changes, amended_by=actor, amended_at=now
    )
    if kind == CareAmendmentKind.ENTERED_IN_ERROR:
        record.voided = True
        record.save(update_fields=["voided"])
        task = CareTask.objects.select_for_update().get(pk=record.task_id)
        task.state, task.state_changed_at = TaskState.DUE, now
        task.save(update_fields=["state", "state_changed_at"])
    return amendment
