"""Monitoring a resident after a change of condition or a fall: an episode (72 hours unless
said otherwise) whose checks the care task engine makes every shift, documented once each,
ended early by a nurse with a note."""

import datetime

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.time import current_stamp
from core.validators import check_inputs
from residents.models import Resident, ResidentStatus

from ..models import MonitoringCheck, MonitoringEpisode, TaskState
from .task_engine import care_tasks_generate

# Who starts an episode: a nurse after an evaluation, or the reporter of a fall (automatic).
STARTERS = (Role.NURSE, Role.MED_TECH, Role.CAREGIVER)
# Who documents a check: everyone on the floor who sees the resident.
CHECKERS = (Role.NURSE, Role.MED_TECH, Role.CAREGIVER)
DEFAULT_HOURS = 72
MAX_HOURS = 14 * 24
REASON_MAX = 300
NOTE_MAX = 1000
CHECK_STATES = {"done": TaskState.DONE, "not_done": TaskState.NOT_DONE}
# A check may still be documented late (with the shift over) for this long.
LATE_ENTRY_LIMIT = datetime.timedelta(hours=24)


@transaction.atomic
def monitoring_start(
    *,
    actor: User,
    resident: Resident,
    reason: str,
    now: datetime.datetime | None = None,
    hours: int = DEFAULT_HOURS,
) -> MonitoringEpisode:
    """Start watching a resident for `hours`: the shift running now gets its check at once (the
    engine's own insert, so the beat adds nothing twice), the next shifts as the beat runs."""
    check_inputs(reason=reason)
    now = now or timezone.now()
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if membership_role(user=actor, facility_id=resident.facility_id) not in STARTERS:
        raise DomainError("Nurses, med techs and caregivers start monitoring.")
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say what to watch for.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"Keep it under {REASON_MAX} characters.", field="reason")
    if not isinstance(hours, int) or not 1 <= hours <= MAX_HOURS:
        raise DomainError(f"Monitor for 1 to {MAX_HOURS} hours.", field="hours")
    episode = MonitoringEpisode.objects.create(
        facility_id=resident.facility_id,
        resident=resident,
        reason=reason,
        started_by=actor,
        started_at=now,
        ends_at=now + datetime.timedelta(hours=hours),
    )
    care_tasks_generate(now=now, facility_ids=[resident.facility_id])
    return episode


@transaction.atomic
def monitoring_end(
    *, actor: User, episode_id: int, note: str, now: datetime.datetime | None = None
) -> MonitoringEpisode:
    """A nurse ends an episode early, saying why: the checks of shifts not yet begun are
    cancelled (the shift running keeps its check)."""
    check_inputs(note=note)
    now = now or timezone.now()
    episode = MonitoringEpisode.objects.filter(pk=episode_id).first()
    if episode is None:
        raise DomainError("This monitoring no longer exists.")
    # The resident first, as every change that cancels timed work (the engine share-locks it).
    Resident.objects.select_for_update().get(pk=episode.resident_id)
    episode = MonitoringEpisode.objects.select_for_update().get(pk=episode_id)
    if membership_role(user=actor, facility_id=episode.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse ends monitoring early.")
    if episode.ended_at is not None:
        raise DomainError(f"This monitoring was ended {current_stamp(episode.ended_at)}.")
    if episode.ends_at <= now:
        raise DomainError("This monitoring has already run its course.")
    note = (note or "").strip()
    if not note:
        raise DomainError("Say why the monitoring ends early.", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="note")
    episode.ended_at = now
    episode.ended_by = actor
    episode.end_note = note
    episode.save(update_fields=["ended_at", "ended_by", "end_note"])
    MonitoringCheck.objects.filter(
        episode=episode,
        state__in=[TaskState.DUE, TaskState.OVERDUE, TaskState.CANCELLED],
        window_opens_at__gt=now,
    ).update(state=TaskState.CANCELLED, cancel_reason="ended", state_changed_at=now)
    return episode


@transaction.atomic
def monitoring_check_record(
    *,
    actor: User,
    check_id: int,
    status: str,
    note: str,
    now: datetime.datetime | None = None,
) -> MonitoringCheck:
    """Document one shift's check: what was seen (a note, always), done or not done."""
    check_inputs(note=note)
    now = now or timezone.now()
    check = MonitoringCheck.objects.filter(pk=check_id).only("resident_id").first()
    if check is None:
        raise DomainError("This monitoring check no longer exists.")
    # The resident first (shared), as a dose's record does: an absence waits for the check.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM residents_resident WHERE id = %s FOR SHARE", [check.resident_id]
        )
    check = MonitoringCheck.objects.select_for_update().get(pk=check_id)
    if membership_role(user=actor, facility_id=check.facility_id) not in CHECKERS:
        raise DomainError("Your role does not document monitoring in this facility.")
    if check.state not in (TaskState.DUE, TaskState.OVERDUE, TaskState.MISSED):
        raise DomainError(f"This check is already {check.get_state_display().lower()}.")
    if status not in CHECK_STATES:
        raise DomainError("Choose checked or not done.", field="status")
    note = (note or "").strip()
    if not note:
        raise DomainError("Write what you saw (or why the check was not done).", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="note")
    if now >= check.window_closes_at + LATE_ENTRY_LIMIT:
        raise DomainError(
            f"The shift ended {current_stamp(check.window_closes_at)}: more than 24 hours ago. "
            "Write a late entry note with your nurse instead."
        )
    if now < check.window_opens_at:
        raise DomainError("This check's shift has not begun.")
    check.state = CHECK_STATES[status]
    check.state_changed_at = now
    check.note = note
    check.checked_by = actor
    check.checked_at = now
    check.save(update_fields=["state", "state_changed_at", "note", "checked_by", "checked_at"])
    return check
