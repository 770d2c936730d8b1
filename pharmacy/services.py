"""Every write of the pharmacy interface after a message is stored (receiving.py stores it):
processing, matching a patient, a nurse's decision on a pending order, receiving a delivery,
and the administrator's interface settings. One transaction each."""

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Facility, Role, User
from accounts.selectors import membership_role
from core.audit import automatic
from core.errors import DomainError
from core.validators import check_inputs
from inventory.services import ReceiveResult, stock_receive
from meds import services as order_services
from meds.models import Medication, OrderSource, OrderStatus, Prescription
from meds.selectors import medication_for_ndc
from residents.models import Resident, ResidentStatus

from . import messages
from .models import (
    ORDER_CONTROLS,
    Decision,
    DispenseReceipt,
    InboundMessage,
    MessageState,
    OrderAction,
    PatientLink,
    PendingOrder,
    PharmacyInterface,
    ReceiptState,
)
from .refills import refills_delivered

DECIDERS = (Role.NURSE, Role.ADMIN)
# Who confirms (or refuses) a delivery the pharmacy announced: whoever is on the floor when it
# arrives, med techs included (inventory.services.stock_receive, `announced`).
RECEIVERS = (Role.MED_TECH, Role.NURSE, Role.ADMIN)
SWEEP_BATCH = 200


def _require(actor: User, facility_id: int, roles=DECIDERS, what="do this") -> str:
    role = membership_role(user=actor, facility_id=facility_id)
    if role not in roles:
        raise DomainError(f"Only nurses and administrators can {what}.")
    return role


# --- processing ------------------------------------------------------------------------------


def message_process(*, message_id: int, now: datetime.datetime | None = None) -> str:
    """Process one acknowledged message (idempotent: only a `received` one, locked, is done;
    another worker holding it is skipped). Returns the state it ends in, or "skipped"."""
    with transaction.atomic(), automatic("pharmacy interface"):
        message = (
            InboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("interface__facility")
            .filter(pk=message_id, state=MessageState.RECEIVED)
            .first()
        )
        if message is None:
            return "skipped"
        return _process_locked(message, now=now or timezone.now())


def messages_process_received(*, now: datetime.datetime | None = None) -> int:
    """The beat's sweep: process what is still `received` (read through the partial index)."""
    done = 0
    while True:
        ids = list(
            InboundMessage.objects.filter(state=MessageState.RECEIVED)
            .order_by("received_at", "pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not ids:
            return done
        progressed = 0
        for message_id in ids:
            if message_process(message_id=message_id, now=now) != "skipped":
                progressed += 1
        done += progressed
        if not progressed:  # the rest is being processed by someone else right now
            return done


def _process_locked(message: InboundMessage, *, now: datetime.datetime) -> str:
    interface = message.interface
    try:
        content = messages.content(messages.parse(message.text))
    except messages.Refusal as error:
        return _fail(message, error.reason, now)
    link = (
        PatientLink.objects.filter(
            interface=interface, pharmacy_patient_id=content.patient.pharmacy_id
        )
        .select_related("resident")
        .first()
    )
    if link is None:
        message.state = MessageState.WAITING
        message.save(update_fields=["state"])
        return message.state
    resident = link.resident
    if resident.facility_id != interface.facility_id:
        return _fail(message, "The matched resident is not of this pharmacy's facility.", now)
    try:
        with transaction.atomic():
            if content.kind == messages.ORDER:
                for position, group in enumerate(content.groups):
                    _pending_order(message, position, group, resident, now)
            else:
                for position, group in enumerate(content.groups):
                    _dispense(message, position, group, resident, now)
    except (DomainError, ValueError, IntegrityError) as error:
        return _fail(message, str(error), now)
    message.state, message.processed_at, message.error = MessageState.PROCESSED, now, ""
    message.save(update_fields=["state", "processed_at", "error"])
    return message.state


def _fail(message: InboundMessage, reason: str, now: datetime.datetime) -> str:
    message.state, message.error, message.processed_at = MessageState.ERROR, reason[:2000], now
    message.save(update_fields=["state", "error", "processed_at"])
    return message.state


def _current_orders(resident: Resident):
    return Prescription.objects.filter(resident=resident).exclude(status=OrderStatus.DISCONTINUED)


def _latest(order: Prescription) -> Prescription:
    """Follow an order's replacements to the one in force now."""
    seen = 0
    while seen < 50:
        following = Prescription.objects.filter(replaces=order).first()
        if following is None:
            return order
        order, seen = following, seen + 1
    return order


def _target(
    resident: Resident, order_number: str, medication: Medication | None
) -> Prescription | None:
    """The resident's current order a change / discontinue / hold / release names: the one an
    accepted pharmacy order of the same number entered (followed to its latest replacement), else
    the only current order of the same medication."""
    earlier = (
        PendingOrder.objects.filter(
            resident=resident,
            order_number=order_number,
            status=Decision.ACCEPTED,
            created_order__isnull=False,
        )
        .select_related("created_order")
        .order_by("-decided_at", "-pk")
        .first()
    )
    if earlier is not None:
        order = _latest(earlier.created_order)
        if order.status != OrderStatus.DISCONTINUED:
            return order
    if medication is not None:
        same = list(_current_orders(resident).filter(medication=medication)[:2])
        if len(same) == 1:
            return same[0]
    return None


def _pending_order(message, position, group, resident, now) -> PendingOrder:
    action = ORDER_CONTROLS[group.control]
    medication = medication_for_ndc(group.ndc) if group.ndc else None
    target = None
    if action != OrderAction.NEW:
        target = _target(resident, group.order_number, medication)
    pending, _ = PendingOrder.objects.get_or_create(
        message=message,
        position=position,
        defaults={
            "facility_id": message.facility_id,
            "resident": resident,
            "action": action,
            "order_number": group.order_number,
            "ndc": group.ndc,
            "drug_text": group.drug_text,
            "medication": medication,
            "dose_amount": group.dose_amount,
            "dose_unit": group.dose_unit,
            "route": group.route,
            "times": group.times,
            "is_prn": group.is_prn,
            "prn_min_hours": group.prn_min_hours,
            "prn_max_per_24h": group.prn_max_per_24h,
            "instructions": group.instructions,
            "indication": group.indication,
            "prescriber": group.prescriber,
            "start_date": group.start_date,
            "stop_date": group.stop_date,
            "target": target,
            "created_at": now,
        },
    )
    return pending


def _dispense(message, position, group, resident, now) -> DispenseReceipt:
    medication = medication_for_ndc(group.ndc) if group.ndc else None
    if medication is not None:
        refills_delivered(resident_id=resident.pk, medication_id=medication.pk, at=now)
    receipt, _ = DispenseReceipt.objects.get_or_create(
        message=message,
        position=position,
        defaults={
            "facility_id": message.facility_id,
            "resident": resident,
            "order_number": group.order_number,
            "ndc": group.ndc,
            "drug_text": group.drug_text,
            "medication": medication,
            "quantity": group.quantity,
            "lot": group.lot,
            "expiry": group.expiry,
            "rx_number": group.rx_number or group.order_number[:40],
            "created_at": now,
        },
    )
    return receipt


# --- matching a patient ----------------------------------------------------------------------


@transaction.atomic
def patient_match(
    *,
    actor: User,
    facility: Facility,
    pharmacy_patient_id: str,
    resident: Resident,
    now: datetime.datetime | None = None,
) -> int:
    """The pharmacy's patient `pharmacy_patient_id` is `resident`: remember it, and process every
    message of this facility's pharmacy that waited for it. Returns how many were processed."""
    now = now or timezone.now()
    _require(actor, facility.pk, what="match pharmacy patients to residents")
    interface = PharmacyInterface.objects.filter(facility=facility).first()
    if interface is None:
        raise DomainError("This facility has no pharmacy interface.")
    if resident.facility_id != facility.pk:
        raise DomainError("Choose a resident of this facility.", field="resident")
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged.", field="resident")
    waiting = list(
        InboundMessage.objects.select_for_update()
        .filter(interface=interface, patient_id=pharmacy_patient_id, state=MessageState.WAITING)
        .order_by("received_at", "pk")
    )
    existing = PatientLink.objects.filter(
        interface=interface, pharmacy_patient_id=pharmacy_patient_id
    ).first()
    if existing is not None and existing.resident_id != resident.pk:
        raise DomainError(
            f"The pharmacy's patient {pharmacy_patient_id} is already matched to "
            f"{existing.resident.display_name}.",
            field="resident",
        )
    if existing is None:
        if not waiting:
            raise DomainError("Nothing waits for this patient any more: reload the page.")
        PatientLink.objects.create(
            interface=interface,
            pharmacy_patient_id=pharmacy_patient_id,
            resident=resident,
            linked_by=actor,
            linked_at=now,
        )
    for message in waiting:
        message.interface = interface
        message.state = MessageState.RECEIVED
        _process_locked(message, now=now)
    return len(waiting)


@transaction.atomic
def patient_link_add(
    *,
    interface: PharmacyInterface,
    pharmacy_patient_id: str,
    resident: Resident,
    actor: User | None = None,
    now: datetime.datetime | None = None,
) -> PatientLink:
    """Map a pharmacy patient id to a resident ahead of any message (the demo's seed)."""
    link, _ = PatientLink.objects.get_or_create(
        interface=interface,
        pharmacy_patient_id=pharmacy_patient_id,
        defaults={"resident": resident, "linked_by": actor, "linked_at": now or timezone.now()},
    )
    return link


# --- a nurse's decision ----------------------------------------------------------------------


def _lock_pending(pending: PendingOrder) -> PendingOrder:
    locked = (
        PendingOrder.objects.select_for_update(of=("self",))
        .select_related("message", "resident", "medication", "target", "decided_by")
        .get(pk=pending.pk)
    )
    if locked.status != Decision.PENDING:
        raise DomainError(
            f"This pharmacy order was already {locked.get_status_display().lower()} by "
            f"{locked.decided_by}."
        )
    return locked


def _times(values: list[str]) -> list[datetime.time]:
    return [datetime.time.fromisoformat(text) for text in values]


@transaction.atomic
def pending_order_accept(
    *,
    actor: User,
    pending: PendingOrder,
    medication: Medication | None = None,
    target: Prescription | None = None,
    allergy_override_reason: str = "",
    now: datetime.datetime | None = None,
) -> PendingOrder:
    """Accept a pharmacy's order into the order flow, through the order services: a new order
    (or a change's new order) waits for verification like a typed one and records the message's
    control id; a discontinue, hold or release changes the current order. `medication` is the
    nurse's choice where the NDC is not in the catalog; `target` where no current order was
    found. Raises DomainError (meds' AllergyWarning too) beside the field to correct."""
    check_inputs(allergy_override_reason=allergy_override_reason)
    now = now or timezone.now()
    pending = _lock_pending(pending)
    _require(actor, pending.facility_id, what="accept pharmacy orders")
    action = pending.action
    medication = medication or pending.medication
    target = target or pending.target
    control_id = pending.message.control_id
    if action in (OrderAction.NEW, OrderAction.CHANGE) and medication is None:
        raise DomainError(
            f"NDC {pending.ndc} ({pending.drug_text or 'no name sent'}) is not in the catalog: "
            "choose the medication, or reject the order.",
            field="medication",
        )
    if action != OrderAction.NEW:
        if target is None:
            raise DomainError(
                "Choose the resident's current order this applies to.", field="target"
            )
        if target.resident_id != pending.resident_id:
            raise DomainError("Choose one of this resident's orders.", field="target")
    reason = f"Pharmacy message {control_id}"
    created = None
    if action in (OrderAction.NEW, OrderAction.CHANGE):
        new_order = {
            "medication": medication,
            "dose_amount": pending.dose_amount,
            "dose_unit": pending.dose_unit or "tablet",
            "route": pending.route,
            "prescriber": pending.prescriber,
            "start_date": pending.start_date or now.astimezone(pending.resident.facility.tz).date(),
            "stop_date": pending.stop_date,
            "instructions": pending.instructions,
            "indication": pending.indication or (pending.instructions if pending.is_prn else ""),
            "is_prn": pending.is_prn,
            "times": _times(pending.times),
            "prn_min_hours": pending.prn_min_hours,
            "prn_max_per_24h": pending.prn_max_per_24h,
            "allergy_override_reason": allergy_override_reason,
            "source": OrderSource.PHARMACY,
            "source_message_id": control_id,
        }
        if action == OrderAction.NEW:
            created = order_services.prescription_create(
                actor=actor, resident=pending.resident, **new_order
            )
        else:
            created = order_services.prescription_change(
                actor=actor, prescription=target, reason=reason, **new_order
            )
    elif action == OrderAction.DISCONTINUE:
        order_services.prescription_discontinue(
            actor=actor, prescription=target, reason=f"Discontinued by the pharmacy ({reason})"
        )
    elif action == OrderAction.HOLD:
        order_services.prescription_hold(
            actor=actor, prescription=target, reason=f"Held by the pharmacy ({reason})"
        )
    else:
        order_services.prescription_resume(
            actor=actor, prescription=target, reason=f"Released by the pharmacy ({reason})"
        )
    pending.status, pending.decided_by, pending.decided_at = Decision.ACCEPTED, actor, now
    pending.medication, pending.target, pending.created_order = medication, target, created
    pending.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "medication",
            "target",
            "created_order",
        ]
    )
    return pending


@transaction.atomic
def pending_order_reject(
    *, actor: User, pending: PendingOrder, reason: str, now: datetime.datetime | None = None
) -> PendingOrder:
    """Reject a pharmacy's order with a reason (recorded here; not sent back to the pharmacy)."""
    check_inputs(reason=reason)
    reason = (reason or "").strip()
    pending = _lock_pending(pending)
    _require(actor, pending.facility_id, what="reject pharmacy orders")
    if not reason:
        raise DomainError("Give the reason for rejecting it.", field="reason")
    pending.status, pending.decided_by = Decision.REJECTED, actor
    pending.decided_at, pending.reason = now or timezone.now(), reason
    pending.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return pending


# --- deliveries ------------------------------------------------------------------------------


def _lock_receipt(receipt: DispenseReceipt) -> DispenseReceipt:
    locked = (
        DispenseReceipt.objects.select_for_update(of=("self",))
        .select_related("resident", "facility", "decided_by")
        .get(pk=receipt.pk)
    )
    if locked.state != ReceiptState.PENDING:
        raise DomainError(
            f"This delivery was already {locked.get_state_display().lower()} "
            f"(by {locked.decided_by})."
        )
    return locked


@transaction.atomic
def receipt_confirm(
    *,
    actor: User,
    receipt: DispenseReceipt,
    medication: Medication | None,
    quantity: Decimal,
    lot: str = "",
    expiry: datetime.date | None = None,
    rx_number: str = "",
    now: datetime.datetime | None = None,
) -> ReceiveResult:
    """The delivery arrived: receive it into the resident's stock through inventory's
    stock_receive (its rules: expired lots refused, controlled drugs need the lot, ...)."""
    receipt = _lock_receipt(receipt)
    if medication is None:
        raise DomainError("Choose the medication delivered.", field="medication")
    result = stock_receive(
        actor=actor,
        facility=receipt.facility,
        medication=medication,
        quantity=quantity,
        resident=receipt.resident,
        lot=lot,
        expiry=expiry,
        rx_number=rx_number,
        now=now,
        announced=True,
    )
    receipt.state, receipt.decided_by = ReceiptState.RECEIVED, actor
    receipt.decided_at = now or timezone.now()
    receipt.stock_item = result.movement.item
    receipt.medication = medication
    receipt.save(update_fields=["state", "decided_by", "decided_at", "stock_item", "medication"])
    return result


@transaction.atomic
def receipt_reject(
    *, actor: User, receipt: DispenseReceipt, reason: str, now: datetime.datetime | None = None
) -> DispenseReceipt:
    check_inputs(reason=reason)
    reason = (reason or "").strip()
    receipt = _lock_receipt(receipt)
    _require(actor, receipt.facility_id, roles=RECEIVERS, what="refuse deliveries")
    if not reason:
        raise DomainError("Give the reason the delivery is not received.", field="reason")
    receipt.state, receipt.decided_by = ReceiptState.REJECTED, actor
    receipt.decided_at, receipt.reason = now or timezone.now(), reason
    receipt.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    return receipt


# --- the administrator's settings ------------------------------------------------------------


@transaction.atomic
def interface_save(
    *,
    actor: User,
    facility: Facility,
    sending_application: str,
    sending_facility: str,
    enabled: bool,
    pharmacy_host: str = "",
    pharmacy_port: int | None = None,
) -> PharmacyInterface:
    """Set the facility's pharmacy: the MSH-3 / MSH-4 its messages carry (unique across
    facilities: a message must name one facility), and where refill requests go."""
    check_inputs(
        sending_application=sending_application,
        sending_facility=sending_facility,
        pharmacy_host=pharmacy_host,
    )
    if membership_role(user=actor, facility_id=facility.pk) != Role.ADMIN:
        raise DomainError("Only administrators can set the pharmacy interface.")
    sending_application = (sending_application or "").strip()
    sending_facility = (sending_facility or "").strip()
    pharmacy_host = (pharmacy_host or "").strip()
    for name, text in (
        ("sending_application", sending_application),
        ("sending_facility", sending_facility),
    ):
        if not text:
            raise DomainError("Enter it as the pharmacy's messages carry it.", field=name)
        if any(ch in text for ch in "|^~\\&") or not text.isprintable():
            raise DomainError("HL7 delimiters (| ^ ~ \\ &) cannot be part of it.", field=name)
    if pharmacy_host and any(ch.isspace() or ch in "/@" for ch in pharmacy_host):
        raise DomainError("Enter a host name or address, e.g. 10.0.0.5.", field="pharmacy_host")
    if pharmacy_port is not None and not 1 <= pharmacy_port <= 65535:
        raise DomainError("A port is 1 to 65535.", field="pharmacy_port")
    if bool(pharmacy_host) != (pharmacy_port is not None):
        raise DomainError(
            "Give both the host and the port to send refill requests, or neither.",
            field="pharmacy_port" if pharmacy_host else "pharmacy_host",
        )
    taken = (
        PharmacyInterface.objects.filter(
            sending_application=sending_application, sending_facility=sending_facility
        )
        .exclude(facility=facility)
        .exists()
    )
    if taken:
        raise DomainError(
            "Another facility's pharmacy already sends as this application and facility.",
            field="sending_application",
        )
    interface = PharmacyInterface.objects.select_for_update().filter(facility=facility).first()
    interface = interface or PharmacyInterface(facility=facility)
    interface.sending_application = sending_application
    interface.sending_facility = sending_facility
    interface.enabled = bool(enabled)
    interface.pharmacy_host = pharmacy_host
    interface.pharmacy_port = pharmacy_port
    try:
        with transaction.atomic():
            interface.save()
    except IntegrityError:
        raise DomainError(
            "Another facility's pharmacy already sends as this application and facility.",
            field="sending_application",
        ) from None
    return interface
