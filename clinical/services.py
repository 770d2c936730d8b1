"""Every write of clinical: reporting a change of condition, and escalating one nobody has
acknowledged in time."""

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.audit import automatic_work
from core.errors import DomainError
from core.time import local_stamp
from core.validators import check_inputs
from mar.models import Alert, AlertKind, AlertSeverity, AlertState, subject_id
from mar.services.alerts import alerts_create
from residents.models import Resident, ResidentStatus

from . import rules
from .models import ConditionReport

# Who reports a change of condition: the staff who see the resident (administrators do not).
REPORTERS = (Role.MED_TECH, Role.CAREGIVER, Role.NURSE)
NOTE_MAX = 1000


def condition_subject(report_id: int) -> str:
    """The alert's subject: one alert per report."""
    return f"condition:{report_id}"


@transaction.atomic
def condition_report(
    *,
    actor: User,
    resident: Resident,
    changes: list[str],
    note: str = "",
    now: datetime.datetime | None = None,
) -> ConditionReport:
    """Report what changed in a resident (ticked from rules.ConditionChange, with a note): the
    nurse's inbox has it at once as a "change of condition" alert."""
    check_inputs(changes=list(changes or []), note=note)
    now = now or timezone.now()
    resident = Resident.objects.select_related("facility").get(pk=resident.pk)
    if membership_role(user=actor, facility_id=resident.facility_id) not in REPORTERS:
        raise DomainError("Med techs, caregivers and nurses report changes of condition.")
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged.")
    chosen = list(dict.fromkeys(changes or []))
    if not chosen:
        raise DomainError("Tick at least one change you noticed.", field="changes")
    if any(change not in rules.ConditionChange.values for change in chosen):
        raise DomainError("Choose the changes from the list.", field="changes")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="note")
    report = ConditionReport.objects.create(
        facility_id=resident.facility_id,
        resident=resident,
        changes=chosen,
        note=note,
        reported_by=actor,
        reported_at=now,
    )
    alerts_create(
        [
            Alert(
                facility_id=resident.facility_id,
                resident=resident,
                kind=AlertKind.CHANGE_OF_CONDITION,
                subject=condition_subject(report.pk),
                severity=AlertSeverity.WARNING,
                message=_message(report, resident),
                created_at=now,
            )
        ]
    )
    return report


def _message(report: ConditionReport, resident: Resident) -> str:
    note = f" “{report.note}”" if report.note else ""
    return (
        f"{resident}: change of condition — {report.changes_words}.{note} Reported by "
        f"{report.reported_by} at {local_stamp(report.reported_at, resident.facility.tz)}."
    )


@automatic_work("condition escalation")
def conditions_escalate(*, now: datetime.datetime | None = None) -> int:
    """Reports whose alert nobody has acknowledged within rules.ESCALATE_AFTER become urgent,
    their words saying how long they have waited; return how many. Run every minute by the
    beat; a report is escalated once (an urgent alert is not touched again)."""
    now = now or timezone.now()
    waited = int(rules.ESCALATE_AFTER.total_seconds() // 60)
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(
                kind=AlertKind.CHANGE_OF_CONDITION,
                state=AlertState.OPEN,
                severity__lt=AlertSeverity.URGENT,
                created_at__lte=now - rules.ESCALATE_AFTER,
            )
            .only("pk", "subject", "message")
        )
        for alert in alerts:
            alert.severity = AlertSeverity.URGENT
            alert.message = f"Not acknowledged for {waited} minutes. {alert.message}"[:2000]
        Alert.objects.bulk_update(alerts, ["severity", "message"])
        ConditionReport.objects.filter(
            pk__in=[subject_id(alert.subject) for alert in alerts]
        ).update(escalated_at=now)
    return len(alerts)
