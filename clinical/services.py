"""Every write of clinical: reporting a change of condition, escalating one nobody has
acknowledged in time, the nurse's evaluation, the notifications and the close."""

import datetime
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from care.services.monitoring import DEFAULT_HOURS, monitoring_start
from core.audit import automatic_work
from core.errors import DomainError
from core.time import local_stamp
from core.validators import check_inputs
from mar.models import Alert, AlertKind, AlertSeverity, AlertState, subject_id
from mar.services.alerts import alert_acknowledge, alert_resolve, alerts_create
from residents.models import Resident, ResidentStatus
from vitals.models import ReadingSource
from vitals.services import readings_record

from . import rules
from .models import ConditionEvaluation, ConditionNotification, ConditionReport

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


# The nurse's evaluation (SBAR), the notifications and the close ---------------------------

SBAR_MAX = {"situation": 2000, "background": 4000, "assessment": 2000, "recommendation": 2000}
SBAR_WORDS = {
    "situation": "the situation",
    "background": "the background",
    "assessment": "your assessment",
    "recommendation": "your recommendation",
}
PERSON_MAX = 120
REASON_MAX = 300


def _nurse_of(actor: User, facility_id: int, action: str) -> None:
    if membership_role(user=actor, facility_id=facility_id) != Role.NURSE:
        raise DomainError(f"Only a nurse {action}.")


@transaction.atomic
def condition_evaluate(
    *,
    actor: User,
    report_id: int,
    situation: str,
    background: str,
    assessment: str,
    recommendation: str,
    monitor_hours: int | None = DEFAULT_HOURS,
    readings: Mapping[str, object] | None = None,
    now: datetime.datetime | None = None,
) -> ConditionEvaluation:
    """The nurse's SBAR evaluation of a report (once), with the vitals taken for it (sign ->
    value; they go to the flowsheet, judged by its ranges). Acknowledges the report's alert if
    nobody has, and starts the monitoring episode unless `monitor_hours` is None."""
    sbar = {
        "situation": situation,
        "background": background,
        "assessment": assessment,
        "recommendation": recommendation,
    }
    check_inputs(**sbar)
    now = now or timezone.now()
    report = ConditionReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise DomainError("This report no longer exists.")
    _nurse_of(actor, report.facility_id, "evaluates a change of condition")
    if ConditionEvaluation.objects.filter(report=report).exists():
        raise DomainError("This change of condition has been evaluated already.")
    for field, value in sbar.items():
        value = (value or "").strip()
        if not value:
            raise DomainError(f"Write {SBAR_WORDS[field]}.", field=field)
        if len(value) > SBAR_MAX[field]:
            raise DomainError(f"Keep it under {SBAR_MAX[field]} characters.", field=field)
        sbar[field] = value
    monitoring = None
    if monitor_hours is not None:
        monitoring = monitoring_start(
            actor=actor,
            resident=report.resident,
            reason=f"Change of condition: {report.changes_words}"[:300],
            now=now,
            hours=monitor_hours,
        )
    evaluation = ConditionEvaluation.objects.create(
        report=report,
        facility_id=report.facility_id,
        resident_id=report.resident_id,
        evaluated_by=actor,
        evaluated_at=now,
        monitoring=monitoring,
        **sbar,
    )
    if readings and any(value not in (None, "") for value in readings.values()):
        evaluation.readings.add(
            *readings_record(
                actor=actor,
                resident=report.resident,
                values=readings,
                source=ReadingSource.EVALUATION,
                now=now,
            )
        )
    alert = _alert_of(report)
    if alert is not None and alert.state == AlertState.OPEN:
        alert_acknowledge(actor=actor, alert=alert, note="Evaluated (SBAR)", now=now)
    return evaluation


def _alert_of(report: ConditionReport) -> Alert | None:
    return Alert.objects.filter(
        kind=AlertKind.CHANGE_OF_CONDITION, subject=condition_subject(report.pk)
    ).first()


@transaction.atomic
def condition_notify(
    *,
    actor: User,
    evaluation_id: int,
    party: str,
    method: str = "",
    person_reached: str = "",
    reached_at: datetime.datetime | None = None,
    response: str = "",
    response_note: str = "",
    declined_reason: str = "",
    now: datetime.datetime | None = None,
) -> ConditionNotification:
    """Record that the physician or the representative was told (how, who, when, what they
    said), or, with `declined_reason`, that they are not told and why (e.g. the resident
    asks that the family is not told)."""
    check_inputs(
        person_reached=person_reached, response_note=response_note, declined_reason=declined_reason
    )
    now = now or timezone.now()
    evaluation = ConditionEvaluation.objects.select_for_update().filter(pk=evaluation_id).first()
    if evaluation is None:
        raise DomainError("This evaluation no longer exists.")
    _nurse_of(actor, evaluation.facility_id, "records notifications")
    if evaluation.closed_at is not None:
        raise DomainError("This change of condition is closed.")
    if party not in rules.NotifiedParty.values:
        raise DomainError("Choose the physician or the representative.", field="party")
    declined_reason = (declined_reason or "").strip()
    fields = {"declined_reason": declined_reason}
    if declined_reason:
        if len(declined_reason) > REASON_MAX:
            raise DomainError(
                f"Keep the reason under {REASON_MAX} characters.", field="declined_reason"
            )
    else:
        person_reached = (person_reached or "").strip()
        if method not in rules.NotificationMethod.values:
            raise DomainError("Choose how they were reached.", field="method")
        if not person_reached:
            raise DomainError("Write who was reached.", field="person_reached")
        if len(person_reached) > PERSON_MAX:
            raise DomainError(
                f"Keep the name under {PERSON_MAX} characters.", field="person_reached"
            )
        if reached_at is None:
            raise DomainError("Say when they were reached.", field="reached_at")
        if reached_at > now + datetime.timedelta(minutes=5):
            raise DomainError("That time is in the future.", field="reached_at")
        if reached_at < evaluation.report.reported_at - datetime.timedelta(hours=24):
            raise DomainError("That is long before the change was reported.", field="reached_at")
        if response not in rules.NotificationResponse.values:
            raise DomainError("Choose their response.", field="response")
        response_note = (response_note or "").strip()
        if len(response_note) > NOTE_MAX:
            raise DomainError(f"Keep the note under {NOTE_MAX} characters.", field="response_note")
        fields.update(
            method=method,
            person_reached=person_reached,
            reached_at=reached_at,
            response=response,
            response_note=response_note,
        )
    return ConditionNotification.objects.create(
        evaluation=evaluation, party=party, recorded_by=actor, recorded_at=now, **fields
    )


@transaction.atomic
def condition_close(
    *, actor: User, evaluation_id: int, now: datetime.datetime | None = None
) -> ConditionEvaluation:
    """Close a change of condition: only once the physician and the representative have each
    been reached or declined with a reason. Resolves the report's alert."""
    now = now or timezone.now()
    evaluation = (
        ConditionEvaluation.objects.select_for_update(of=("self",))
        .select_related("report")
        .filter(pk=evaluation_id)
        .first()
    )
    if evaluation is None:
        raise DomainError("This evaluation no longer exists.")
    _nurse_of(actor, evaluation.facility_id, "closes a change of condition")
    if evaluation.closed_at is not None:
        raise DomainError("This change of condition is closed already.")
    done = set(evaluation.notifications.values_list("party", flat=True))
    missing = [
        rules.NotifiedParty(p).label.lower() for p in rules.REQUIRED_PARTIES if p not in done
    ]
    if missing:
        raise DomainError(
            f"Record the {' and the '.join(missing)} notification first (reached, or not "
            "notified with the reason)."
        )
    evaluation.closed_at = now
    evaluation.closed_by = actor
    evaluation.save(update_fields=["closed_at", "closed_by"])
    alert = _alert_of(evaluation.report)
    if alert is not None and alert.state != AlertState.RESOLVED:
        alert_resolve(
            actor=actor,
            alert=alert,
            note="Evaluated; physician and representative notified.",
            now=now,
        )
    return evaluation
