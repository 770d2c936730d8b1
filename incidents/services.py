"""Every write of incidents: reporting one (its follow-ups, the inbox alert and, for a fall, the
monitoring episode, in one transaction), amending a reported fact, working a follow-up, and
closing the incident once nothing it requires is open."""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from care.models import MonitoringEpisode
from care.services.monitoring import monitoring_start
from clinical.services import REPORTERS
from core.audit import automatic_work
from core.errors import DomainError
from core.time import local_stamp
from core.validators import check_inputs
from mar.models import Administration, Alert, AlertKind, AlertSeverity, ScheduledDose
from mar.services.alerts import alerts_create, alerts_resolve
from meds.models import OrderStatus, Prescription
from residents.models import Resident, ResidentStatus

from . import rules
from .models import Incident, IncidentAmendment, IncidentFollowUp
from .rules import FACTS, FollowUpState, IncidentKind, IncidentState

# Who works follow-ups, amends and closes: the nurses.
NURSES = (Role.NURSE,)
# How far back an incident may be reported (a bruise found days later is still reported).
REPORT_WITHIN = datetime.timedelta(days=31)
# A clock a few minutes fast on the cart is not an incident in the future.
CLOCK_SLACK = datetime.timedelta(minutes=5)
NOTE_MAX = 500
REASON_MAX = 300


def incident_subject(incident_id: int) -> str:
    """The inbox alert's subject: one alert per incident."""
    return f"incident:{incident_id}"


def _require_role(actor: User, facility_id: int, roles, message: str) -> None:
    if membership_role(user=actor, facility_id=facility_id) not in roles:
        raise DomainError(message)


def _check_instant(name: str, value, *, now: datetime.datetime, after=None) -> None:
    label = FACTS[name].label
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise DomainError(rules.MISSING["instant"], field=name)
    if value > now + CLOCK_SLACK:
        raise DomainError(f"{label}: that is in the future.", field=name)
    if value < now - REPORT_WITHIN:
        raise DomainError(
            f"{label}: report incidents of the last {REPORT_WITHIN.days} days here; "
            "for older ones, ask a nurse.",
            field=name,
        )
    if after is not None and value < after:
        raise DomainError(f"{label} cannot be before it happened.", field=name)


def _checked(name: str, value, *, now: datetime.datetime, occurred_at=None):
    """The fact's value as it is stored, or a DomainError beside its field."""
    fact = FACTS[name]
    if value is None or value == "":
        if fact.required:
            raise DomainError(rules.MISSING[fact.kind], field=name)
        return None if fact.kind != "text" else ""
    if fact.kind == "yes_no":
        if not isinstance(value, bool):
            raise DomainError(rules.MISSING["yes_no"], field=name)
        return value
    if fact.kind == "choice":
        if value not in fact.choices.values:
            raise DomainError("Choose one from the list.", field=name)
        return value
    if fact.kind == "score":
        if not isinstance(value, int) or value not in rules.PAIN_SCORES:
            raise DomainError(rules.MISSING["score"], field=name)
        return value
    if fact.kind == "size":
        try:
            size = Decimal(str(value)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            raise DomainError(rules.MISSING["size"], field=name) from None
        if not size.is_finite() or size <= 0 or size > rules.SIZE_MAX:
            raise DomainError(
                f"Enter the size in centimetres, above 0 and up to {rules.SIZE_MAX}.", field=name
            )
        return size
    if fact.kind == "instant":
        _check_instant(name, value, now=now, after=occurred_at if name != "occurred_at" else None)
        return value
    text = str(value).strip()
    if fact.required and not text:
        raise DomainError(rules.MISSING["text"], field=name)
    limit = rules.TEXT_MAX[name]
    if len(text) > limit:
        raise DomainError(f"Keep this under {limit} characters.", field=name)
    return text


def anticoagulants_on_mar(*, resident: Resident, on: datetime.date) -> list[str]:
    """The resident's active orders of an anticoagulant on the facility-local day `on` (by the
    catalog's high-alert class, or the generic names in rules.ANTICOAGULANTS)."""
    orders = (
        Prescription.objects.filter(resident=resident, status=OrderStatus.ACTIVE)
        .filter(start_date__lte=on)
        .filter(Q(stop_date__isnull=True) | Q(stop_date__gte=on))
        .select_related("medication")
        .order_by("medication__name", "pk")
    )
    return list(
        dict.fromkeys(
            str(order.medication)
            for order in orders
            if rules.is_anticoagulant(
                name=order.medication.name,
                generic_name=order.medication.generic_name,
                high_alert=order.medication.high_alert,
            )
        )
    )


def _error_source(*, resident: Resident, prescription, administration, dose):
    """The order, record and dose a medication error names, all of this resident."""
    if administration is not None:
        if administration.resident_id != resident.pk:
            raise DomainError("That record is another resident's.", field="prescription")
        prescription = administration.prescription
        dose = administration.dose
    if dose is not None:
        if dose.resident_id != resident.pk:
            raise DomainError("That dose is another resident's.", field="prescription")
        prescription = dose.prescription
    if prescription is None:
        raise DomainError("Choose the medication the error was about.", field="prescription")
    if prescription.resident_id != resident.pk:
        raise DomainError("Choose one of this resident's medications.", field="prescription")
    return prescription, administration, dose


@transaction.atomic
def incident_report(
    *,
    actor: User,
    resident: Resident,
    kind: str,
    occurred_at: datetime.datetime,
    description: str,
    discovered_by: str = "",
    facts: dict | None = None,
    injuries: dict[str, str] | None = None,
    prescription: Prescription | None = None,
    administration: Administration | None = None,
    dose: ScheduledDose | None = None,
    now: datetime.datetime | None = None,
) -> Incident:
    """Report an incident. `facts` holds the type's own facts (rules.FACTS: a fall's witnessed,
    location, pain score ...); a fall's `injuries` maps body sites to an injury each. The
    follow-ups its type asks for are opened, the nurses' inbox has it at once, a fall starts
    the resident's monitoring episode, and a fall's anticoagulant is read from the MAR."""
    facts = dict(facts or {})
    injuries = {site: injury for site, injury in (injuries or {}).items() if injury}
    check_inputs(description=description, discovered_by=discovered_by, facts=facts)
    now = now or timezone.now()
    resident = Resident.objects.select_related("facility").get(pk=resident.pk)
    _require_role(
        actor,
        resident.facility_id,
        REPORTERS,
        "Med techs, caregivers and nurses report incidents.",
    )
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged.")
    if kind not in IncidentKind.values:
        raise DomainError("Choose what kind of incident it was.", field="kind")
    values = {
        "occurred_at": _checked("occurred_at", occurred_at, now=now),
        "description": _checked("description", description, now=now),
        "discovered_by": _checked("discovered_by", discovered_by, now=now),
    }
    for name in rules.facts_for(kind):
        if name not in values:
            values[name] = _checked(name, facts.get(name), now=now, occurred_at=occurred_at)
    extra = {}
    if kind == IncidentKind.FALL:
        if any(site not in rules.BodySite.values for site in injuries) or any(
            injury not in rules.Injury.values for injury in injuries.values()
        ):
            raise DomainError("Choose the injuries from the lists.", field="injuries")
        drugs = anticoagulants_on_mar(
            resident=resident, on=occurred_at.astimezone(resident.facility.tz).date()
        )
        extra = {
            "injuries": injuries,
            "anticoagulant": bool(drugs),
            "anticoagulant_drugs": ", ".join(drugs)[:300],
        }
    elif kind == IncidentKind.MEDICATION_ERROR:
        prescription, administration, dose = _error_source(
            resident=resident, prescription=prescription, administration=administration, dose=dose
        )
        extra = {"prescription": prescription, "administration": administration, "dose": dose}
    if kind == IncidentKind.FALL:
        extra["monitoring_episode"] = fall_monitoring_start(
            actor=actor, resident=resident, occurred_at=values["occurred_at"], now=now
        )
    incident = Incident.objects.create(
        facility_id=resident.facility_id,
        unit_id=resident.unit_id,
        resident=resident,
        kind=kind,
        reported_by=actor,
        reported_at=now,
        **values,
        **extra,
    )
    IncidentFollowUp.objects.bulk_create(
        IncidentFollowUp(incident=incident, kind=followup)
        for followup in rules.followups_for(
            kind, witnessed=incident.witnessed, head_strike=incident.head_strike
        )
    )
    alerts_create(
        [_alert(incident, AlertKind.INCIDENT, _severity(incident), _message(incident), now)]
    )
    return incident


def fall_monitoring_start(
    *, actor: User, resident: Resident, occurred_at: datetime.datetime, now: datetime.datetime
) -> MonitoringEpisode:
    """A fall starts the resident's monitoring episode (care's 72 hours, a check every shift),
    in the report's transaction: the episode and the incident commit together or not at all."""
    when = local_stamp(occurred_at, resident.facility.tz)
    return monitoring_start(
        actor=actor,
        resident=resident,
        reason=f"After a fall at {when}: pain, new bruising or swelling, alertness, walking.",
        now=now,
    )


def _alert(incident: Incident, kind: str, severity: int, message: str, now) -> Alert:
    """The nurses' inbox alert about an incident (one per kind: its subject is the incident)."""
    return Alert(
        facility_id=incident.facility_id,
        resident_id=incident.resident_id,
        kind=kind,
        subject=incident_subject(incident.pk),
        severity=severity,
        message=message[:2000],
        created_at=now,
    )


def _severity(incident: Incident) -> int:
    serious = incident.hospital_transfer or incident.head_strike or incident.harm_reached
    return AlertSeverity.URGENT if serious else AlertSeverity.WARNING


def _message(incident: Incident) -> str:
    resident = incident.resident
    tz = resident.facility.tz
    flags = [
        words
        for flag, words in (
            (incident.head_strike, "hit their head"),
            (incident.anticoagulant, f"on an anticoagulant ({incident.anticoagulant_drugs})"),
            (incident.hospital_transfer, "sent to hospital"),
            (incident.harm_reached, "the error reached the resident"),
        )
        if flag
    ]
    flagged = f" ({'; '.join(flags)})" if flags else ""
    return (
        f"{resident}: {incident.get_kind_display().lower()} at "
        f"{local_stamp(incident.occurred_at, tz)}{flagged}. “{incident.description[:300]}” "
        f"Reported by {incident.reported_by}."
    )


# Amendments -------------------------------------------------------------------------------------


def _json(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_json(name: str, value):
    if value is None:
        return None
    kind = FACTS[name].kind
    if kind == "instant":
        return rules.parse_instant(value)
    if kind == "size":
        return Decimal(value)
    return value


def facts_as_amended(incident: Incident, amendments) -> dict:
    """Every fact of the incident's type as it reads now: the report, then each amendment in
    the order it was made."""
    values = {name: getattr(incident, name) for name in rules.facts_for(incident.kind)}
    for amendment in amendments:
        if amendment.field in values:
            values[amendment.field] = _from_json(amendment.field, amendment.after)
    return values


@transaction.atomic
def incident_amend(
    *,
    actor: User,
    incident: Incident,
    field: str,
    value,
    reason: str,
    now: datetime.datetime | None = None,
) -> IncidentAmendment:
    """Correct one reported fact: the report stays as it was and the amendment (before, after,
    why) is shown under it. A fall amended to unwitnessed or to a head strike gets its neuro
    checks if it had none."""
    check_inputs(reason=reason, value=value if isinstance(value, str) else "")
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_role(actor, incident.facility_id, NURSES, "Nurses amend incidents.")
    if field not in rules.facts_for(incident.kind):
        raise DomainError("Choose a fact of this incident to correct.", field="field")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why it is corrected.", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    current = facts_as_amended(incident, incident.amendments.all())
    try:
        corrected = _checked(field, value, now=now, occurred_at=current["occurred_at"])
    except DomainError as error:
        raise DomainError(error.message, field="value") from None
    if _json(corrected) == _json(current[field]):
        raise DomainError("That is what it says already.", field="value")
    amendment = IncidentAmendment.objects.create(
        incident=incident,
        field=field,
        before=_json(current[field]),
        after=_json(corrected),
        reason=reason,
        amended_by=actor,
        amended_at=now,
    )
    current[field] = corrected
    if incident.state == IncidentState.OPEN and incident.kind == IncidentKind.FALL:
        needed = rules.followups_for(
            incident.kind, witnessed=current["witnessed"], head_strike=current["head_strike"]
        )
        have = set(incident.followups.values_list("kind", flat=True))
        IncidentFollowUp.objects.bulk_create(
            [IncidentFollowUp(incident=incident, kind=kind) for kind in needed if kind not in have]
        )
    return amendment


# Follow-ups and the close -------------------------------------------------------------------------


def _open_followup(*, actor: User, followup: IncidentFollowUp) -> IncidentFollowUp:
    followup = (
        IncidentFollowUp.objects.select_for_update(of=("self",))
        .select_related("incident__facility", "completed_by")
        .get(pk=followup.pk)
    )
    _require_role(actor, followup.incident.facility_id, NURSES, "Nurses complete follow-ups.")
    if followup.state != FollowUpState.OPEN:
        raise DomainError(
            f"{followup.get_kind_display()} was already {followup.get_state_display().lower()} "
            f"by {followup.completed_by} at "
            f"{local_stamp(followup.completed_at, followup.incident.facility.tz)}."
        )
    if followup.incident.state != IncidentState.OPEN:
        raise DomainError("The incident is closed.")
    return followup


def _text(name: str, value: str, limit: int, missing: str | None = None) -> str:
    value = (value or "").strip()
    if missing and not value:
        raise DomainError(missing, field=name)
    if len(value) > limit:
        raise DomainError(f"Keep this under {limit} characters.", field=name)
    return value


@transaction.atomic
def followup_complete(
    *,
    actor: User,
    followup: IncidentFollowUp,
    note: str = "",
    method: str = "",
    reached: str = "",
    reached_at: datetime.datetime | None = None,
    response: str = "",
    now: datetime.datetime | None = None,
) -> IncidentFollowUp:
    """A nurse records a follow-up done. A notification says how (rules.NotifyMethod), who was
    reached, when and their response; any other follow-up says what was done."""
    check_inputs(note=note, method=method, reached=reached, response=response)
    now = now or timezone.now()
    followup = _open_followup(actor=actor, followup=followup)
    if followup.is_notification:
        if method not in rules.NotifyMethod.values:
            raise DomainError("Choose how they were told.", field="method")
        followup.method = method
        followup.reached = _text("reached", reached, 120, "Say who was reached.")
        if reached_at is None or timezone.is_naive(reached_at):
            raise DomainError("Enter when they were reached.", field="reached_at")
        if reached_at > now + CLOCK_SLACK:
            raise DomainError("When they were reached is in the future.", field="reached_at")
        if reached_at < followup.incident.occurred_at:
            raise DomainError("They were reached before it happened?", field="reached_at")
        followup.reached_at = reached_at
        followup.response = _text("response", response, 300, "Write down what they said.")
        followup.note = _text("note", note, NOTE_MAX)
    else:
        followup.note = _text("note", note, NOTE_MAX, "Say what was done.")
    followup.state = FollowUpState.DONE
    followup.completed_by = actor
    followup.completed_at = now
    followup.save()
    return followup


@transaction.atomic
def followup_decline(
    *, actor: User, followup: IncidentFollowUp, reason: str, now: datetime.datetime | None = None
) -> IncidentFollowUp:
    """A nurse declines a notification, with the reason (e.g. the resident asked that the family
    not be told). Other follow-ups cannot be declined."""
    check_inputs(reason=reason)
    now = now or timezone.now()
    followup = _open_followup(actor=actor, followup=followup)
    if not followup.is_notification:
        raise DomainError(f"{followup.get_kind_display()} cannot be declined; record it done.")
    followup.decline_reason = _text("reason", reason, REASON_MAX, "Say why it is declined.")
    followup.state = FollowUpState.DECLINED
    followup.completed_by = actor
    followup.completed_at = now
    followup.save()
    return followup


def close_blockers(followups) -> list[str]:
    """The follow-ups still open, in words: why the incident cannot close yet."""
    return [f.get_kind_display().lower() for f in followups if f.state == FollowUpState.OPEN]


@transaction.atomic
def incident_close(
    *, actor: User, incident: Incident, note: str = "", now: datetime.datetime | None = None
) -> Incident:
    """A nurse closes the incident once every follow-up is done or declined; its inbox alert is
    resolved with it."""
    check_inputs(note=note)
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_role(actor, incident.facility_id, NURSES, "Nurses close incidents.")
    if incident.state != IncidentState.OPEN:
        raise DomainError("This incident is already closed.")
    blockers = close_blockers(incident.followups.select_for_update())
    if blockers:
        raise DomainError(
            f"It cannot close while follow-ups are open: {', '.join(blockers)}. "
            "Record each done (or decline a notification, with the reason)."
        )
    incident.close_note = _text("note", note, NOTE_MAX)
    incident.state = IncidentState.CLOSED
    incident.closed_by = actor
    incident.closed_at = now
    incident.save(update_fields=["state", "closed_by", "closed_at", "close_note"])
    alerts_resolve(
        kinds=[AlertKind.INCIDENT, AlertKind.INCIDENT_FOLLOWUP],
        subjects=[incident_subject(incident.pk)],
        by=actor,
        at=now,
        note="Incident closed.",
    )
    return incident


@automatic_work("incident follow-up sweep")
def followups_raise_due(*, now: datetime.datetime | None = None) -> int:
    """Open incidents with a follow-up still open rules.FOLLOWUP_DUE after the report get one
    "incident follow-up due" alert each (subject `incident:<id>`), naming what is open; the
    close resolves it. Run every 5 minutes by the beat; returns how many alerts were raised
    (an incident already alerted is not read again)."""
    now = now or timezone.now()
    alerted = Alert.objects.filter(
        kind=AlertKind.INCIDENT_FOLLOWUP,
        subject=Concat(Value("incident:"), Cast(OuterRef("incident_id"), CharField())),
    )
    followups = (
        IncidentFollowUp.objects.filter(
            state=FollowUpState.OPEN,
            incident__state=IncidentState.OPEN,
            incident__reported_at__lte=now - rules.FOLLOWUP_DUE,
        )
        .exclude(Exists(alerted))
        .select_related("incident__resident__facility")
        .order_by("incident_id", "pk")
    )
    waiting: dict[int, list[IncidentFollowUp]] = {}
    for followup in followups:
        waiting.setdefault(followup.incident_id, []).append(followup)
    hours = int(rules.FOLLOWUP_DUE.total_seconds() // 3600)
    alerts = []
    for items in waiting.values():
        incident = items[0].incident
        message = (
            f"{incident.resident}: {incident.get_kind_display().lower()} of "
            f"{local_stamp(incident.occurred_at, incident.resident.facility.tz)} still has "
            f"{', '.join(close_blockers(items))} open {hours} hours after the report."
        )
        alerts.append(
            _alert(incident, AlertKind.INCIDENT_FOLLOWUP, AlertSeverity.WARNING, message, now)
        )
    return alerts_create(alerts)
