"""Recording what happened at the med pass: scheduled doses, PRNs, follow-ups, amendments.

Every record is append-only (database triggers); a mistake is corrected by an amendment. Each
form carries a one-time key and the dose (or PRN order) row is locked, so a double click, two
tabs or two med techs make one record and the others get a clear message.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Facility, Role, User
from accounts.selectors import medication_aide_current, membership_role
from accounts.services import staff_authenticate
from appointments.models import AppointmentState
from appointments.selectors import away_for
from core.errors import DomainError
from core.time import local_day_time, local_time
from core.validators import check_inputs
from inventory.services import stock_consume, stock_reverse_for_administration
from meds.barcodes import is_lot
from meds.models import OrderStatus, Prescription, Route
from residents.models import ResidentStatus
from vitals.models import HOLD_VITALS, VITAL_UNITS, ReadingSource, VitalSign
from vitals.services import readings_record, readings_values

from .. import rules
from ..models import (
    DOSE_ALERT_KINDS,
    RECORDABLE_STATUSES,
    Administration,
    AdminStatus,
    AlertKind,
    Amendment,
    AmendmentKind,
    DoseState,
    Entry,
    FollowUpResult,
    OtherCode,
    PrnFollowUp,
    ScheduledDose,
    dose_subject,
    prn_subject,
)
from ..selectors import prn_status, too_close_to_another_dose
from .alerts import alert_raise_certification, alerts_reopen, alerts_resolve


class AlreadyDocumented(DomainError):
    """Someone documented this dose first; the message names who and when."""


@dataclass(frozen=True)
class RecordResult:
    administration: Administration
    # False when the same form (idempotency key) had already been recorded: nothing new was made.
    created: bool = True
    # Set when "given" was refused because a hold parameter triggered; the dose is recorded held.
    hold_message: str = ""


def _check_may_give(
    *, actor: User, facility: Facility, order: Prescription, now: datetime.datetime
) -> str:
    """Role, certification and scope rules; returns the actor's role."""
    role = membership_role(user=actor, facility_id=facility.pk)
    if role is None:
        raise DomainError("You are not a member of this facility.")
    if role == Role.MED_TECH:
        today = now.astimezone(facility.tz).date()
        if not medication_aide_current(user=actor, today=today):
            raise CertificationRequired(
                "Your medication aide certification is expired or missing, so you cannot record "
                "medications. Ask a nurse to give this dose; your administrator has been told."
            )
        medication = order.medication
        if medication.controlled_schedule == "II" and not facility.medtechs_may_give_schedule_ii:
            raise DomainError(
                f"{medication.name} is schedule II: facility policy says a nurse gives it."
            )
        if order.route in Route.injections() and not facility.medtechs_may_give_injections:
            raise DomainError("Injections are given by a nurse here (facility policy).")
    return role


class CertificationRequired(DomainError):
    """The med tech's medication aide certification is not current."""


def _parse_vitals(vitals: dict | None) -> dict[str, Decimal]:
    """The readings typed at the cart, checked as the flowsheet checks them (vitals' rules),
    each refusal beside its field."""
    vitals = {kind: raw for kind, raw in (vitals or {}).items() if raw not in (None, "")}
    for kind in vitals:
        if kind not in HOLD_VITALS:  # the med pass takes the signs hold parameters name
            raise DomainError(f"Unknown vital sign {kind}.")
    try:
        return readings_values(vitals)
    except DomainError as error:
        raise DomainError(
            error.message, field=f"vital_{error.field}" if error.field else None
        ) from None


def _apply_hold_parameters(
    *, order: Prescription, readings: dict[str, Decimal], status: str
) -> tuple[str, str]:
    """Vitals are required for an order with hold parameters; a triggered one turns "given" into
    "held". Returns (status, what triggered, in words)."""
    parameters = list(order.hold_parameters.all())
    if not parameters or status != AdminStatus.GIVEN:
        return status, ""
    missing = rules.missing_vitals(parameters, readings)
    if missing:
        labels = ", ".join(sorted(VitalSign(vital).label for vital in missing))
        raise DomainError(
            f"Take and enter {labels} before giving: this order has hold parameters.",
            field="vitals",
        )
    trigger = rules.triggered_hold(parameters, readings)
    if trigger is None:
        return status, ""
    unit = VITAL_UNITS[VitalSign(trigger.rule.vital)]
    return AdminStatus.HELD, f"{trigger.rule} — reading {trigger.reading.normalize():f} {unit}"


def _witness_for(
    *,
    facility: Facility,
    order: Prescription,
    actor: User,
    status: str,
    username: str,
    secret: str,
    client_address: str | None = None,
) -> User | None:
    if not (order.medication.is_controlled and status == AdminStatus.GIVEN):
        return None
    if not facility.controlled_requires_witness and not username:
        return None
    witness = staff_authenticate(
        actor=actor,
        facility=facility,
        username=username,
        secret=secret,
        field="witness",
        client_address=client_address,
    )
    return witness


def _save_administration(
    *,
    actor: User,
    order: Prescription,
    resident,
    dose: ScheduledDose | None,
    status: str,
    now: datetime.datetime,
    key,
    readings: dict[str, Decimal],
    witness: User | None,
    administered_at: datetime.datetime | None = None,
    **fields,
) -> Administration:
    """The record, its vital readings and, for a dose given, the stock it takes, in the caller's
    transaction: a dose given is a dose out of stock, or neither. `actor` is who gave it (the
    record's `recorded_by`); `administered_at` is `now` unless the record is entered late
    (the downtime MAR typed in: `late_entry`) or was made offline and reaches the server now
    (`offline`): the ledger still moves at `now`, when it learns of the dose, so that its
    running balance stays in order."""
    administered_at = administered_at or now
    administration = Administration.objects.create(
        witness=witness,
        facility_id=order.facility_id,
        resident_id=order.resident_id,
        prescription=order,
        dose=dose,
        status=status,
        administered_at=administered_at,
        recorded_at=now,
        recorded_by=actor,
        dose_given=order.dose_text if status == AdminStatus.GIVEN else "",
        vitals={kind: f"{value.normalize():f}" for kind, value in readings.items()},
        idempotency_key=key,
        **fields,
    )
    if readings:
        # The flowsheet's one way in (it takes no lock: the order above stays the locks' order);
        # a reading out of range is an exception there and an alert in the inbox.
        taken = readings_record(
            actor=actor,
            resident=resident,
            values=readings,
            source=ReadingSource.MED_PASS,
            taken_at=administered_at,
            now=now,
        )
        administration.readings.add(*taken)
    if status == AdminStatus.GIVEN:
        stock_consume(
            actor=actor,
            resident=resident,
            medication=order.medication,
            quantity=order.dose_amount,
            at=now,
            administration_id=administration.pk,
            witness=witness,
        )
    return administration


def _mark_documented(*, dose: ScheduledDose, status: str, by: User, now: datetime.datetime):
    """The dose (locked by the caller) is documented; its overdue / missed alert is resolved."""
    dose.state, dose.state_changed_at = DoseState.DOCUMENTED, now
    dose.save(update_fields=["state", "state_changed_at"])
    alerts_resolve(
        kinds=DOSE_ALERT_KINDS,
        subjects=[dose_subject(dose.pk)],
        by=by,
        at=now,
        note=f"Documented: {AdminStatus(status).label.lower()}",
    )


def _by_key(key, *, dose_id: int | None, prescription_id: int) -> Administration | None:
    """The record this form's one-time key already made, if any.

    A key is bound to the dose (or PRN order) its form was made for: replayed against another
    dose it is refused, never taken as "already recorded" (an offline queue replays keys).
    """
    existing = Administration.objects.filter(idempotency_key=key).first()
    if existing is not None and (
        existing.dose_id != dose_id or existing.prescription_id != prescription_id
    ):
        raise DomainError(
            "This form was already used to document another dose, so nothing was recorded. "
            "Reload the page and document this dose again."
        )
    return existing


def administration_record(
    *,
    actor: User,
    dose: ScheduledDose,
    status: str,
    idempotency_key,
    reason: str = "",
    late_reason: str = "",
    early_reason: str = "",
    other_code: str = "",
    vitals: dict | None = None,
    witness_username: str = "",
    witness_secret: str = "",
    notes: str = "",
    spacing_override_reason: str = "",
    lot: str = "",
    now: datetime.datetime | None = None,
    client_address: str | None = None,
    appointment_early: bool = False,
    entry: str = Entry.ONLINE,
    received_at: datetime.datetime | None = None,
) -> RecordResult:
    """Record what happened to a scheduled dose. Exactly one standing record per dose.

    `entry` says how the record came (mar.models.Entry). Made offline, `now` is the time on the
    cart when it was recorded (every rule is applied at that time) and `received_at` the time the
    server received it (kept as recorded_at).

    `appointment_early`: the dose is given before the resident leaves for an appointment that
    takes them away across its window (appointments.selectors.away_for, read again under the
    lock): it may then be given before its window opens, by a med tech too, with
    `early_reason` (see administration_record_away).

    "Given" closer to another given dose of the order than its minimum spacing is refused
    unless a nurse gives `spacing_override_reason` (recorded on the administration).
    `lot` is the lot of the package scanned for this dose (GS1 AI 10); it is kept when the dose
    is given (what went into the resident), not when it was refused, held or not given.

    The dose row is locked, so two people (or two tabs) documenting it at once apply one after
    the other: the second gets AlreadyDocumented naming the first. The same form submitted twice
    (same idempotency key) returns the first result with created=False. A triggered hold
    parameter records the dose as held and says so in `hold_message`.
    """
    check_inputs(
        reason=reason,
        late_reason=late_reason,
        early_reason=early_reason,
        other_code=other_code,
        witness_username=witness_username,
        notes=notes,
        spacing_override_reason=spacing_override_reason,
        lot=lot,
    )
    now = now or timezone.now()
    if (
        existing := _by_key(idempotency_key, dose_id=dose.pk, prescription_id=dose.prescription_id)
    ) is not None:
        return RecordResult(existing, created=False)
    try:
        return _record_dose(
            actor=actor,
            dose_id=dose.pk,
            status=status,
            key=idempotency_key,
            reason=(reason or "").strip(),
            late_reason=(late_reason or "").strip(),
            early_reason=(early_reason or "").strip(),
            other_code=other_code,
            vitals=vitals,
            witness_username=witness_username,
            witness_secret=witness_secret,
            notes=(notes or "").strip(),
            spacing_override_reason=(spacing_override_reason or "").strip(),
            lot=(lot or "").strip(),
            now=now,
            client_address=client_address,
            appointment_early=appointment_early,
            entry=entry,
            received_at=received_at,
        )
    except CertificationRequired:
        alert_raise_certification(facility=dose.facility, user=actor, now=received_at or now)
        raise
    except IntegrityError:
        # The unique key or the one-per-dose constraint caught a race the lock did not see.
        if (
            existing := _by_key(
                idempotency_key, dose_id=dose.pk, prescription_id=dose.prescription_id
            )
        ) is not None:
            return RecordResult(existing, created=False)
        raise _already_documented(ScheduledDose.objects.get(pk=dose.pk)) from None


def _check_spacing(*, dose: ScheduledDose, now: datetime.datetime, nurse: bool, reason: str) -> str:
    """Two given doses of one scheduled order keep the order's minimum spacing
    (`rules.min_dose_spacing`); closer is refused unless a nurse gives a reason, which is
    returned to be recorded. The order row is locked: two doses given at once are checked one
    after the other."""
    order = Prescription.objects.select_for_update().get(pk=dose.prescription_id)
    spacing = rules.min_dose_spacing(order.times, order.min_dose_spacing_minutes)
    given = list(
        Administration.objects.filter(
            prescription=order,
            dose__isnull=False,
            status=AdminStatus.GIVEN,
            voided=False,
            administered_at__gt=now - spacing,
            administered_at__lt=now + spacing,
        )
        .exclude(dose_id=dose.pk)
        .select_related("dose", "recorded_by")
    )
    too_close = too_close_to_another_dose(
        order=order, given=given, now=now, tz=dose.facility.tz, nurse=nurse
    )
    if not too_close:
        return ""
    if nurse and reason:
        return reason
    raise DomainError(too_close, field="spacing_override_reason")


def _already_documented(dose: ScheduledDose) -> AlreadyDocumented:
    standing = (
        dose.administrations.filter(voided=False).select_related("recorded_by", "facility").first()
    )
    if standing is None:
        return AlreadyDocumented("This dose was documented by someone else just now.")
    return AlreadyDocumented(
        f"Already documented ({standing.get_status_display().lower()}) by "
        f"{standing.recorded_by} at {local_time(standing.recorded_at, standing.facility.tz)}."
    )


def _share_lock_resident_of(dose_id: int) -> None:
    """Share-lock the dose's resident before the dose. A hold, a stop or an absence locks the
    resident's row first, then the order, then the doses it cancels; recording locks the dose,
    then the order (_check_spacing). Both taking the resident's row first keeps one order of
    locks, so the two wait for each other instead of deadlocking (two recordings share it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM residents_resident AS r "
            "JOIN mar_scheduleddose AS d ON d.resident_id = r.id "
            "WHERE d.id = %s FOR SHARE OF r",
            [dose_id],
        )


@transaction.atomic
def _record_dose(
    *,
    actor,
    dose_id,
    status,
    key,
    now,
    vitals,
    witness_username,
    witness_secret,
    client_address=None,
    appointment_early=False,
    received_at=None,
    **fields,
) -> RecordResult:
    _share_lock_resident_of(dose_id)
    dose = (
        ScheduledDose.objects.select_for_update(of=("self",))
        .select_related("facility", "prescription__medication", "resident")
        .get(pk=dose_id)
    )
    if (
        existing := _by_key(key, dose_id=dose.pk, prescription_id=dose.prescription_id)
    ) is not None:
        return RecordResult(existing, created=False)
    if dose.state == DoseState.DOCUMENTED:
        raise _already_documented(dose)
    if dose.state == DoseState.CANCELLED:
        raise DomainError(
            f"This dose was cancelled ({dose.cancel_reason or 'order changed'}); nothing to record."
        )
    facility, order = dose.facility, dose.prescription
    role = _check_may_give(actor=actor, facility=facility, order=order, now=now)
    try:
        status = AdminStatus(status)
    except ValueError:
        raise DomainError("Choose what happened: given, refused, held, …", field="status") from None
    if status not in RECORDABLE_STATUSES:
        raise DomainError(
            f"“{status.label}” is not recorded on a dose: send the resident on leave or to "
            "hospital from their profile, which takes care of their doses.",
            field="status",
        )
    if status != AdminStatus.GIVEN and not fields["reason"]:
        raise DomainError(f"Enter the reason the dose was {status.label.lower()}.", field="reason")
    if (
        status == AdminStatus.OTHER
        and not OtherCode.objects.filter(facility=facility, code=fields["other_code"]).exists()
    ):
        raise DomainError("Choose a code for “other”.", field="other_code")
    if status != AdminStatus.OTHER:
        fields["other_code"] = ""
    if appointment_early and (not fields["early_reason"] or not _away_early(dose, status, now)):
        raise DomainError(
            "Only a dose due while the resident is away at an appointment can be recorded "
            "before its window (given: only before they leave)."
        )
    if now < dose.window_opens_at:
        if appointment_early:
            pass  # given before leaving for the appointment (checked above)
        elif role != Role.NURSE or not fields["early_reason"]:
            raise DomainError(
                "Too early: this dose's window opens at "
                f"{local_time(dose.window_opens_at, facility.tz)}."
                + (" As a nurse you may override with a reason." if role == Role.NURSE else ""),
                field="early_reason",
            )
    else:
        fields["early_reason"] = ""
    if now > dose.window_closes_at and not fields["late_reason"]:
        raise DomainError(
            f"Late: the window closed at {local_time(dose.window_closes_at, facility.tz)}. "
            "Enter a late reason.",
            field="late_reason",
        )
    if now <= dose.window_closes_at:
        fields["late_reason"] = ""
    readings = _parse_vitals(vitals)
    status, triggered = _apply_hold_parameters(order=order, readings=readings, status=status)
    if triggered:
        fields["reason"] = f"Hold parameter: {triggered}"
    fields["spacing_override_reason"] = (
        _check_spacing(
            dose=dose, now=now, nurse=role == Role.NURSE, reason=fields["spacing_override_reason"]
        )
        if status == AdminStatus.GIVEN
        else ""
    )
    if status != AdminStatus.GIVEN:
        fields["lot"] = ""
    elif fields["lot"] and not is_lot(fields["lot"]):
        raise DomainError(f"“{fields['lot']}” is not a lot number; scan the package again.")
    witness = _witness_for(
        facility=facility,
        order=order,
        actor=actor,
        status=status,
        username=witness_username,
        secret=witness_secret,
        client_address=client_address,
    )
    administration = _save_administration(
        actor=actor,
        order=order,
        resident=dose.resident,
        dose=dose,
        status=status,
        now=received_at or now,
        administered_at=now,
        key=key,
        readings=readings,
        witness=witness,
        hold_triggered=triggered,
        **fields,
    )
    _mark_documented(dose=dose, status=status, by=actor, now=received_at or now)
    hold_message = f"Not given: {triggered}. Recorded as held; tell the nurse." if triggered else ""
    return RecordResult(administration, created=True, hold_message=hold_message)


def prn_give(
    *,
    actor: User,
    prescription: Prescription,
    idempotency_key,
    prn_reason: str,
    vitals: dict | None = None,
    witness_username: str = "",
    witness_secret: str = "",
    approver_username: str = "",
    approver_secret: str = "",
    notes: str = "",
    now: datetime.datetime | None = None,
    client_address: str | None = None,
    entry: str = Entry.ONLINE,
    received_at: datetime.datetime | None = None,
) -> RecordResult:
    """Give a PRN dose within its limits (minimum interval, maximum per rolling 24 hours).

    Made offline (`entry`, `received_at`: see administration_record), the limits count every
    standing dose of the order, those documented after `now` by another cart too.

    The order row is locked, so two PRN doses submitted at once are checked one after the other
    and cannot exceed the maximum. Where policy asks, a nurse approves first (authenticating on
    the same screen); controlled drugs need a witness.
    """
    check_inputs(
        prn_reason=prn_reason,
        witness_username=witness_username,
        approver_username=approver_username,
        notes=notes,
    )
    now = now or timezone.now()
    if (
        existing := _by_key(idempotency_key, dose_id=None, prescription_id=prescription.pk)
    ) is not None:
        return RecordResult(existing, created=False)
    try:
        return _give_prn(
            actor=actor,
            order_id=prescription.pk,
            key=idempotency_key,
            prn_reason=(prn_reason or "").strip(),
            vitals=vitals,
            witness_username=witness_username,
            witness_secret=witness_secret,
            approver_username=approver_username,
            approver_secret=approver_secret,
            notes=(notes or "").strip(),
            now=now,
            client_address=client_address,
            entry=entry,
            received_at=received_at,
        )
    except CertificationRequired:
        alert_raise_certification(
            facility=prescription.facility, user=actor, now=received_at or now
        )
        raise
    except IntegrityError:
        if (
            existing := _by_key(idempotency_key, dose_id=None, prescription_id=prescription.pk)
        ) is not None:
            return RecordResult(existing, created=False)
        raise


@transaction.atomic
def _give_prn(
    *,
    actor,
    order_id,
    key,
    prn_reason,
    vitals,
    witness_username,
    witness_secret,
    approver_username,
    approver_secret,
    notes,
    now,
    client_address=None,
    entry=Entry.ONLINE,
    received_at=None,
) -> RecordResult:
    order = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("facility", "medication", "resident")
        .get(pk=order_id)
    )
    if (existing := _by_key(key, dose_id=None, prescription_id=order_id)) is not None:
        return RecordResult(existing, created=False)
    facility = order.facility
    if not order.is_prn:
        raise DomainError("This is not a PRN order.")
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(
            f"This order is {order.get_status_display().lower()}; it cannot be given."
        )
    if order.resident.status != ResidentStatus.ACTIVE:
        raise DomainError(f"{order.resident.display_name} is not in the facility.")
    role = _check_may_give(actor=actor, facility=facility, order=order, now=now)
    if not prn_reason:
        raise DomainError("Enter why the PRN is given (the symptom or reason).", field="prn_reason")
    status = prn_status(order=order, now=now)
    if not status.allowed(now):
        limit = (
            f"the maximum of {order.prn_max_per_24h} in 24 hours is reached"
            if status.too_many
            else f"it must be {order.prn_min_hours.normalize():f} h apart"
        )
        raise DomainError(
            f"Not yet: last given at {local_day_time(status.last_at, facility.tz)} by "
            f"{status.last_by}, and {limit}. Next allowed at "
            f"{local_day_time(status.next_allowed_at, facility.tz)}."
        )
    approver = None
    if facility.prn_requires_nurse_approval and role == Role.MED_TECH:
        approver = staff_authenticate(
            actor=actor,
            facility=facility,
            username=approver_username,
            secret=approver_secret,
            field="approver",
            who="approving nurse",
            client_address=client_address,
        )
        if membership_role(user=approver, facility_id=facility.pk) != Role.NURSE:
            raise DomainError("A nurse must approve this PRN (facility policy).", field="approver")
    readings = _parse_vitals(vitals)
    given, triggered = _apply_hold_parameters(
        order=order, readings=readings, status=AdminStatus.GIVEN
    )
    if triggered:
        raise DomainError(f"Do not give: {triggered}. Tell the nurse.", field="vitals")
    witness = _witness_for(
        facility=facility,
        order=order,
        actor=actor,
        status=given,
        username=witness_username,
        secret=witness_secret,
        client_address=client_address,
    )
    administration = _save_administration(
        actor=actor,
        order=order,
        resident=order.resident,
        dose=None,
        status=given,
        now=received_at or now,
        administered_at=now,
        key=key,
        readings=readings,
        witness=witness,
        approved_by=approver,
        prn_reason=prn_reason,
        notes=notes,
        entry=entry,
    )
    return RecordResult(administration, created=True)


@transaction.atomic
def prn_followup_record(
    *,
    actor: User,
    administration: Administration,
    result: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> PrnFollowUp:
    check_inputs(note=note)
    locked = Administration.objects.select_for_update().get(pk=administration.pk)
    if locked.dose_id is not None or locked.status != AdminStatus.GIVEN:
        raise DomainError("Only a given PRN dose has an effectiveness follow-up.")
    if PrnFollowUp.objects.filter(administration=locked).exists():
        raise DomainError("The follow-up of this dose is already documented.")
    if result not in FollowUpResult.values:
        raise DomainError("Choose effective, partly effective or not effective.", field="result")
    if membership_role(user=actor, facility_id=locked.facility_id) is None:
        raise DomainError("You are not a member of this facility.")
    now = now or timezone.now()
    facility = Facility.objects.get(pk=locked.facility_id)
    opens = rules.followup_opens_at(locked.administered_at, facility.prn_followup_earliest_minutes)
    if now < opens:
        raise DomainError(
            f"Too early to judge the effect: the follow-up opens at "
            f"{local_time(opens, facility.tz)} ({facility.prn_followup_earliest_minutes} minutes "
            "after the dose).",
            field="result",
        )
    followup = PrnFollowUp.objects.create(
        administration=locked,
        result=result,
        note=(note or "").strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    alerts_resolve(
        kinds=[AlertKind.PRN_FOLLOWUP],
        subjects=[prn_subject(locked.pk)],
        by=actor,
        at=followup.recorded_at,
        note=f"Follow-up: {followup.get_result_display().lower()}",
    )
    return followup


@transaction.atomic
def amendment_create(
    *,
    actor: User,
    administration: Administration,
    kind: str,
    reason: str,
    changes: dict,
    now: datetime.datetime | None = None,
) -> Amendment:
    """A nurse corrects a record. The original stays; "entered in error" voids it, so the dose
    can be documented again."""
    check_inputs(reason=reason)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for the amendment.", field="reason")
    if kind not in AmendmentKind.values:
        raise DomainError("Choose the kind of amendment.", field="kind")
    locked = (
        Administration.objects.select_for_update(of=("self",))
        .select_related("dose")
        .get(pk=administration.pk)
    )
    if membership_role(user=actor, facility_id=locked.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse can amend a record.")
    if locked.voided:
        raise DomainError("This record was already marked entered in error.")
    allowed = {"status", "administered_at", "reason", "notes", "dose_given"}
    changes = {k: v for k, v in (changes or {}).items() if k in allowed and v not in ("", None)}
    if "status" in changes and changes["status"] not in AdminStatus.values:
        raise DomainError("Choose a valid status.", field="status")
    if kind == AmendmentKind.CORRECTION and not changes:
        raise DomainError("Say what the correction changes.", field="changes")
    now = now or timezone.now()
    amendment = Amendment.objects.create(
        administration=locked,
        kind=kind,
        reason=reason,
        changes=changes,
        amended_by=actor,
        amended_at=now,
    )
    if kind == AmendmentKind.ENTERED_IN_ERROR:
        locked.voided = True
        locked.save(update_fields=["voided"])
        stock_reverse_for_administration(
            actor=actor, administration_id=locked.pk, at=now, reason=f"Entered in error: {reason}"
        )
        if locked.dose is not None:
            dose = ScheduledDose.objects.select_for_update().get(pk=locked.dose_id)
            dose.state, dose.state_changed_at = DoseState.DUE, now
            dose.save(update_fields=["state", "state_changed_at"])
            # The sweep moves it on (overdue / missed) at once if its window has passed.
            alerts_reopen(kinds=DOSE_ALERT_KINDS, subjects=[dose_subject(dose.pk)])
    return amendment


def _away_early(dose: ScheduledDose, status: str, now: datetime.datetime) -> bool:
    """The dose may be recorded before its window: the resident is away at an appointment across
    it (appointments.selectors.away_for). "Given" only while they have not left yet."""
    appointment = away_for(dose.resident_id, dose.window_opens_at, dose.window_closes_at, now)
    if appointment is None:
        return False
    return status != AdminStatus.GIVEN or appointment.state == AppointmentState.SCHEDULED


# What a med tech answers for a dose due while the resident is away at an appointment.
AWAY_CHOICES = {
    "given_before": "Given before leaving",
    "sent": "Sent with the resident",
    "not_given": "Not given (out at the appointment)",
}
# The facility's "other" code these are recorded under (mar.models.DEFAULT_OTHER_CODES).
AWAY_CODE = "out"


def administration_record_away(
    *,
    actor: User,
    dose: ScheduledDose,
    choice: str,
    idempotency_key,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> RecordResult:
    """Record a dose due while the resident is away at an appointment (out now, or about to
    leave for a scheduled one: appointments.selectors.away_for). `choice`:

    - "given_before": Given, before the resident leaves (allowed before the window opens);
    - "sent": the dose went with the resident (recorded as Other "out of facility", with the
      reason, since nobody here saw it given);
    - "not_given": not given because the resident was out (Other "out of facility").

    A dose outside the appointment's time is refused: use the ordinary record. Everything else
    (locks, the one-time key, certification, witness, hold parameters) is administration_record.
    """
    now = now or timezone.now()
    if choice not in AWAY_CHOICES:
        raise DomainError("Choose what happened to the dose.", field="choice")
    appointment = away_for(dose.resident_id, dose.window_opens_at, dose.window_closes_at, now)
    if appointment is None:
        raise DomainError(
            "This dose is not due while the resident is away at an appointment; record it as "
            "usual.",
            field="choice",
        )
    words = f"the appointment with {appointment}"
    late = f"Out at {words}" if now > dose.window_closes_at else ""
    early = now < dose.window_opens_at
    if choice == "given_before":
        return administration_record(
            actor=actor,
            dose=dose,
            status=AdminStatus.GIVEN,
            idempotency_key=idempotency_key,
            early_reason=f"Given before leaving for {words}" if early else "",
            late_reason=late,
            now=now,
            client_address=client_address,
            appointment_early=early,
        )
    has_code = OtherCode.objects.filter(facility_id=dose.facility_id, code=AWAY_CODE).exists()
    reason = (
        f"Sent with the resident to {words}" if choice == "sent" else f"Not given: out at {words}"
    )
    return administration_record(
        actor=actor,
        dose=dose,
        status=AdminStatus.OTHER if has_code else AdminStatus.OMITTED,
        other_code=AWAY_CODE if has_code else "",
        idempotency_key=idempotency_key,
        reason=reason,
        late_reason=late,
        # Recorded ahead of the window when the resident leaves before it opens.
        early_reason=f"Recorded as the resident left for {words}" if early else "",
        now=now,
        client_address=client_address,
        appointment_early=early,
    )
