"""Every write about appointments: booking, transport, holds for the visit, leaving, coming back,
the outcome (with the orders it brings, entered through meds' order services) and cancelling.

Each write locks the appointment's row and checks the `version` the form was read at: a change
someone else saved meanwhile is refused with their name, never silently overwritten.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.audit import automatic_work
from core.errors import DomainError
from core.validators import check_inputs
from meds.models import Medication, OrderStatus, Prescription
from meds.services import prescription_change, prescription_create, prescription_hold_dated
from residents.models import Resident, ResidentStatus

from .models import (
    OPEN_STATES,
    Appointment,
    AppointmentHold,
    AppointmentOrder,
    AppointmentState,
    OrderChange,
    Seen,
    Transport,
)
from .signals import appointment_outcomes_overdue, appointment_settled

# Who books and works appointments: everyone on the med side (caregivers do not).
BOOKERS = (Role.MED_TECH, Role.NURSE, Role.ADMIN)
# An outcome not recorded this long after the planned return raises an alert.
OUTCOME_GRACE = datetime.timedelta(hours=4)
# How far ahead and back an appointment may be booked.
BOOK_AHEAD = datetime.timedelta(days=366)
BOOK_BACK = datetime.timedelta(days=7)
LONGEST_VISIT = datetime.timedelta(hours=24)
# The audit trail's name for the sweep's writes.
OUTCOME_SWEEP = "appointment sweep"

DETAIL_FIELDS = (
    "provider_name",
    "provider_specialty",
    "provider_address",
    "provider_phone",
    "starts_at",
    "expected_return_at",
    "purpose",
    "transport",
    "transport_booker",
    "pickup_at",
    "escort",
    "bring_medication_list",
    "bring_insurance_card",
    "bring_mar",
    "fasting",
    "instructions",
)
TEXT_LIMITS = {
    "provider_name": 120,
    "provider_specialty": 80,
    "provider_address": 300,
    "provider_phone": 40,
    "purpose": 300,
    "transport_booker": 120,
    "escort": 120,
    "instructions": 500,
}


@dataclass(frozen=True)
class OutcomeOrder:
    """An order the provider wrote (`replaces` None) or changed (`replaces` the old order),
    daily at `times`, from `start_date`."""

    medication: Medication
    dose_amount: Decimal
    dose_unit: str
    route: str
    times: list[datetime.time]
    start_date: datetime.date
    prescriber: str
    instructions: str = ""
    replaces: Prescription | None = None
    allergy_override_reason: str = ""


def _require(actor: User, facility_id: int, roles=BOOKERS, message: str = "") -> str:
    role = membership_role(user=actor, facility_id=facility_id)
    if role not in roles:
        raise DomainError(message or "Med techs, nurses and administrators book appointments.")
    return role


def _aware(name: str, value, *, required: bool = True) -> datetime.datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise DomainError("Enter the date and time.", field=name)
    return value


def _clean(fields: dict, *, now: datetime.datetime, resident: Resident) -> dict:
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"Unknown appointment fields: {sorted(unknown)}")
    check_inputs(**{k: v for k, v in fields.items() if isinstance(v, str)})
    clean = dict(fields)
    for name, limit in TEXT_LIMITS.items():
        clean[name] = " ".join(str(clean.get(name) or "").split())
        if len(clean[name]) > limit:
            raise DomainError(f"Keep this under {limit} characters.", field=name)
    if not clean["provider_name"]:
        raise DomainError("Enter the provider (doctor or clinic).", field="provider_name")
    if not clean["purpose"]:
        raise DomainError("Enter what the appointment is for.", field="purpose")
    if clean.get("transport") not in Transport.values:
        raise DomainError("Choose the transport.", field="transport")
    starts_at = _aware("starts_at", clean.get("starts_at"))
    back = _aware("expected_return_at", clean.get("expected_return_at"))
    pickup = _aware("pickup_at", clean.get("pickup_at"), required=False)
    if starts_at < now - BOOK_BACK:
        raise DomainError("That is more than a week ago.", field="starts_at")
    if starts_at > now + BOOK_AHEAD:
        raise DomainError("Book appointments up to a year ahead.", field="starts_at")
    if back <= starts_at:
        raise DomainError(
            "The expected return must be after the appointment.", field="expected_return_at"
        )
    if back - starts_at > LONGEST_VISIT:
        raise DomainError(
            "An appointment lasts under a day; for a longer absence send the resident on leave "
            "or to hospital from their profile.",
            field="expected_return_at",
        )
    if pickup is not None and not (starts_at - LONGEST_VISIT <= pickup <= starts_at):
        raise DomainError(
            "The pick-up must be before the appointment, the same day.", field="pickup_at"
        )
    for flag in ("bring_medication_list", "bring_insurance_card", "bring_mar", "fasting"):
        clean[flag] = bool(clean.get(flag))
    clean["pickup_at"] = pickup
    return clean


def _resident(resident: Resident) -> Resident:
    resident = Resident.objects.select_related("facility").get(pk=resident.pk)
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged.")
    return resident


@transaction.atomic
def appointment_create(
    *, actor: User, resident: Resident, now: datetime.datetime | None = None, **fields
) -> Appointment:
    """Book an appointment (fields: DETAIL_FIELDS, times aware). Transport is not booked yet:
    the supervisor's home flags it until appointment_book_transport."""
    now = now or timezone.now()
    resident = _resident(resident)
    _require(actor, resident.facility_id)
    clean = _clean(fields, now=now, resident=resident)
    return Appointment.objects.create(
        facility=resident.facility,
        resident=resident,
        created_by=actor,
        created_at=now,
        **clean,
    )


def _locked(appointment: Appointment, version: int | None) -> Appointment:
    """The appointment, row-locked, at the version the form was read at."""
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("facility", "resident")
        .get(pk=appointment.pk)
    )
    if version is not None and locked.version != version:
        raise DomainError(
            "Someone changed this appointment while you had it open; nothing was saved. "
            "Reload the page to see their change."
        )
    return locked


def _save(appointment: Appointment, *fields: str) -> Appointment:
    appointment.version += 1
    appointment.save(update_fields=["version", *fields])
    return appointment


@transaction.atomic
def appointment_update(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    now: datetime.datetime | None = None,
    **fields,
) -> Appointment:
    """Correct the details of a scheduled appointment (the audit trail keeps what it read).
    A change of transport or pick-up time takes back the transport booking."""
    now = now or timezone.now()
    appointment = _locked(appointment, version)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.SCHEDULED:
        raise DomainError(
            f"This appointment is {appointment.get_state_display().lower()}; only a scheduled "
            "one can be changed."
        )
    clean = _clean(fields, now=now, resident=appointment.resident)
    rebook = (clean["transport"], clean["pickup_at"]) != (
        appointment.transport,
        appointment.pickup_at,
    )
    changed = [name for name, value in clean.items() if getattr(appointment, name) != value]
    for name in changed:
        setattr(appointment, name, clean[name])
    if rebook and appointment.transport_booked_at is not None:
        appointment.transport_booked_at = appointment.transport_booked_by = None
        appointment.transport_note = ""
        changed += ["transport_booked_at", "transport_booked_by", "transport_note"]
    return _save(appointment, *changed) if changed else appointment


@transaction.atomic
def appointment_book_transport(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    pickup_at: datetime.datetime | None,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Appointment:
    """Record that the transport is booked (with its pick-up time and any reference)."""
    check_inputs(note=note)
    now = now or timezone.now()
    appointment = _locked(appointment, version)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.SCHEDULED:
        raise DomainError("Transport is booked before the resident leaves.")
    if appointment.transport_booked:
        raise DomainError(
            f"The transport is already booked (by {appointment.transport_booked_by})."
        )
    pickup_at = _aware("pickup_at", pickup_at)
    if not (appointment.starts_at - LONGEST_VISIT <= pickup_at <= appointment.starts_at):
        raise DomainError(
            "The pick-up must be before the appointment, the same day.", field="pickup_at"
        )
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise DomainError("Keep this under 200 characters.", field="note")
    appointment.pickup_at = pickup_at
    appointment.transport_booked_by, appointment.transport_booked_at = actor, now
    appointment.transport_note = note
    return _save(
        appointment, "pickup_at", "transport_booked_by", "transport_booked_at", "transport_note"
    )


@transaction.atomic
def appointment_hold_medication(
    *,
    actor: User,
    appointment: Appointment,
    prescription: Prescription,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str,
    now: datetime.datetime | None = None,
) -> AppointmentHold:
    """An instruction to hold one of the resident's orders for the visit: a dated hold placed
    through meds' order services, which stops doses only once a nurse verifies it."""
    appointment = _locked(appointment, None)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.SCHEDULED:
        raise DomainError("Holds are placed before the resident leaves.")
    if prescription.resident_id != appointment.resident_id:
        raise DomainError("Choose one of this resident's orders.", field="prescription")
    hold = prescription_hold_dated(
        actor=actor,
        prescription=prescription,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip() or f"Appointment: {appointment}",
        now=now,
    )
    # The hold is a row of its own (meds'), linked here; the appointment's fields are
    # unchanged, so its version stays (a form open meanwhile is still current).
    return AppointmentHold.objects.create(appointment=appointment, hold=hold)


@transaction.atomic
def appointment_leave(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """The resident leaves for the appointment. Until they are back the board reads "out —
    appointment" and their doses in that time wait for a reason instead of going overdue."""
    now = now or timezone.now()
    at = at or now
    appointment = _locked(appointment, version)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.SCHEDULED:
        raise DomainError(f"This appointment is {appointment.get_state_display().lower()}.")
    resident = Resident.objects.get(pk=appointment.resident_id)
    if resident.status != ResidentStatus.ACTIVE:
        where = resident.get_status_display().lower()
        raise DomainError(f"{resident.display_name} is not in the facility ({where}).")
    if Appointment.objects.filter(resident=resident, state=AppointmentState.OUT).exists():
        raise DomainError(f"{resident.display_name} is already out at another appointment.")
    if at > now + datetime.timedelta(minutes=5) or at < now - datetime.timedelta(hours=12):
        raise DomainError("Enter when the resident left (within the last 12 hours).", field="at")
    if at < appointment.starts_at - LONGEST_VISIT:
        raise DomainError("That is more than a day before the appointment.", field="at")
    appointment.state, appointment.left_at, appointment.left_by = AppointmentState.OUT, at, actor
    return _save(appointment, "state", "left_at", "left_by")


@transaction.atomic
def appointment_return(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """The resident is back: the board shows them present again and the outcome is due."""
    now = now or timezone.now()
    at = at or now
    appointment = _locked(appointment, version)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.OUT:
        raise DomainError("Only a resident who is out can come back.")
    if at > now + datetime.timedelta(minutes=5) or at < appointment.left_at:
        raise DomainError(
            "Enter when the resident came back (after they left, not ahead).", field="at"
        )
    appointment.state = AppointmentState.BACK
    appointment.returned_at, appointment.returned_by = at, actor
    return _save(appointment, "state", "returned_at", "returned_by")


@transaction.atomic
def appointment_record_outcome(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    seen: str,
    notes: str,
    orders: list[OutcomeOrder] | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Record the outcome and close the appointment: seen or not seen, the provider's words,
    and any new or changed orders. Those are entered through meds' order services (a change
    discontinues the old order and enters the new, linked one) and wait for a nurse's
    verification: nothing reaches the MAR before. Orders are entered by nurses and
    administrators (meds' rule); a med tech records an outcome without orders, or tells the
    nurse. A resident still out is marked back first (refused until then); an appointment never
    left closes only as not seen."""
    check_inputs(notes=notes)
    now = now or timezone.now()
    orders = list(orders or [])
    appointment = _locked(appointment, version)
    role = _require(actor, appointment.facility_id)
    if appointment.state not in (AppointmentState.SCHEDULED, AppointmentState.BACK):
        if appointment.state == AppointmentState.OUT:
            raise DomainError(
                f"{appointment.resident.display_name} is still out: mark them back first."
            )
        raise DomainError(f"This appointment is already {appointment.get_state_display().lower()}.")
    if seen not in Seen.values:
        raise DomainError("Say whether the resident was seen.", field="seen")
    if appointment.state == AppointmentState.SCHEDULED and seen == Seen.SEEN:
        raise DomainError(
            "The resident never left for this appointment: mark them out and back first, or "
            "record it as not seen.",
            field="seen",
        )
    notes = (notes or "").strip()
    if not notes:
        raise DomainError(
            "Write what the provider said (or why the resident was not seen).", field="notes"
        )
    if len(notes) > 2000:
        raise DomainError("Keep this under 2000 characters.", field="notes")
    if orders and role not in (Role.NURSE, Role.ADMIN):
        raise DomainError(
            "A nurse enters the new or changed orders: record the outcome with a nurse, or "
            "leave the orders out and hand the provider's paper to the nurse.",
            field="medication",
        )
    for order in orders:
        new = {
            "medication": order.medication,
            "dose_amount": order.dose_amount,
            "dose_unit": order.dose_unit,
            "route": order.route,
            "prescriber": order.prescriber,
            "start_date": order.start_date,
            "instructions": order.instructions,
            "times": order.times,
            "allergy_override_reason": order.allergy_override_reason,
        }
        if order.replaces is not None:
            if order.replaces.resident_id != appointment.resident_id:
                raise DomainError("Choose one of this resident's orders.", field="replaces")
            if order.replaces.status == OrderStatus.DISCONTINUED:
                raise DomainError("That order is already discontinued.", field="replaces")
            prescription = prescription_change(
                actor=actor,
                prescription=order.replaces,
                reason=f"Changed at the appointment with {appointment}",
                **new,
            )
            change = OrderChange.CHANGED
        else:
            prescription = prescription_create(actor=actor, resident=appointment.resident, **new)
            change = OrderChange.NEW
        AppointmentOrder.objects.create(
            appointment=appointment, prescription=prescription, change=change
        )
    appointment.state = AppointmentState.CLOSED
    appointment.seen, appointment.outcome_notes = seen, notes
    appointment.outcome_by, appointment.outcome_at = actor, now
    _save(appointment, "state", "seen", "outcome_notes", "outcome_by", "outcome_at")
    appointment_settled.send(sender=Appointment, appointment=appointment, by=actor, at=now)
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    actor: User,
    appointment: Appointment,
    version: int | None,
    reason: str,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Cancel a scheduled appointment, with the reason. Its holds stay as they are (a nurse
    cancels one that is no longer wanted on the order's page)."""
    check_inputs(reason=reason)
    now = now or timezone.now()
    appointment = _locked(appointment, version)
    _require(actor, appointment.facility_id)
    if appointment.state != AppointmentState.SCHEDULED:
        raise DomainError(
            f"This appointment is {appointment.get_state_display().lower()}; only a scheduled "
            "one can be cancelled."
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("Give the reason.", field="reason")
    if len(reason) > 300:
        raise DomainError("Keep this under 300 characters.", field="reason")
    appointment.state = AppointmentState.CANCELLED
    appointment.cancelled_by, appointment.cancelled_at, appointment.cancel_reason = (
        actor,
        now,
        reason,
    )
    _save(appointment, "state", "cancelled_by", "cancelled_at", "cancel_reason")
    appointment_settled.send(sender=Appointment, appointment=appointment, by=actor, at=now)
    return appointment


@automatic_work(OUTCOME_SWEEP)
@transaction.atomic
def appointments_raise_overdue_outcomes(
    *, now: datetime.datetime | None = None, facility_ids=None
) -> int:
    """Every open appointment whose outcome is not recorded 4 hours after its planned return
    gets one alert (through appointment_outcomes_overdue, which mar receives). Reads the
    partial index of open, not yet alerted appointments; marks them alerted in the same
    transaction, so running twice or at once raises nothing twice (SKIP LOCKED), and a run after
    an outage catches up every one of them."""
    now = now or timezone.now()
    due = Appointment.objects.filter(
        state__in=OPEN_STATES,
        outcome_alerted_at__isnull=True,
        expected_return_at__lte=now - OUTCOME_GRACE,
    )
    if facility_ids is not None:
        due = due.filter(facility_id__in=facility_ids)
    locked = list(
        due.select_for_update(of=("self",), skip_locked=True)
        .select_related("resident", "facility")
        .order_by("facility_id", "pk")
    )
    if not locked:
        return 0
    Appointment.objects.filter(pk__in=[a.pk for a in locked]).update(outcome_alerted_at=now)
    by_facility: dict[int, list[Appointment]] = {}
    for appointment in locked:
        appointment.outcome_alerted_at = now
        by_facility.setdefault(appointment.facility_id, []).append(appointment)
    for facility_id, appointments in by_facility.items():
        appointment_outcomes_overdue.send(
            sender=Appointment, facility_id=facility_id, appointments=appointments, at=now
        )
    return len(locked)
