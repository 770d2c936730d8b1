"""Reads of the pharmacy interface that its pages share."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Min, QuerySet

from accounts.models import Facility
from core.words import count_of
from meds.models import OrderStatus, Prescription, Route
from meds.services import allergy_conflicts
from residents.models import AllergyStatus

from . import messages
from .models import (
    Decision,
    DispenseReceipt,
    InboundMessage,
    MessageState,
    OrderAction,
    PendingOrder,
    PharmacyInterface,
    ReceiptState,
)


def interface_of(*, facility: Facility) -> PharmacyInterface | None:
    return PharmacyInterface.objects.filter(facility=facility).first()


def inbox(*, facility: Facility) -> QuerySet[PendingOrder]:
    """The pending orders, oldest first, with what each row shows loaded."""
    return (
        PendingOrder.objects.filter(facility=facility, status=Decision.PENDING)
        .select_related("resident", "medication", "target__medication", "message")
        .order_by("created_at", "pk")
    )


def receipts_pending(*, facility: Facility) -> QuerySet[DispenseReceipt]:
    return (
        DispenseReceipt.objects.filter(facility=facility, state=ReceiptState.PENDING)
        .select_related("resident", "medication", "message")
        .order_by("created_at", "pk")
    )


@dataclass(frozen=True)
class WaitingPatient:
    """A patient the pharmacy named whom no resident matches yet (PID-3, PID-5, PID-7)."""

    message_pk: int  # the first message waiting for them
    pharmacy_patient_id: str
    name: str
    birth_date: datetime.date | None
    waiting: int
    since: datetime.datetime


def _patient_of(message: InboundMessage) -> messages.Patient:
    try:
        return messages.content(messages.parse(message.text)).patient
    except messages.Refusal:
        return messages.Patient(pharmacy_id=message.patient_id)


def match_queue(*, facility: Facility) -> list[WaitingPatient]:
    """One row per waiting patient: how many messages wait, since when, the name and birth date
    of the first (two queries, whatever the size)."""
    groups = list(
        InboundMessage.objects.filter(facility=facility, state=MessageState.WAITING)
        .values("patient_id")
        .annotate(waiting=Count("pk"), since=Min("received_at"), first=Min("pk"))
        .order_by("since")
    )
    firsts = InboundMessage.objects.in_bulk([group["first"] for group in groups])
    rows = []
    for group in groups:
        patient = _patient_of(firsts[group["first"]])
        rows.append(
            WaitingPatient(
                message_pk=group["first"],
                pharmacy_patient_id=group["patient_id"],
                name=patient.name or "(no name sent)",
                birth_date=patient.birth_date,
                waiting=group["waiting"],
                since=group["since"],
            )
        )
    return rows


def waiting_patient(*, facility: Facility, pk: int) -> WaitingPatient:
    """The match page's patient (raises InboundMessage.DoesNotExist when nothing waits)."""
    message = InboundMessage.objects.get(facility=facility, state=MessageState.WAITING, pk=pk)
    patient = _patient_of(message)
    same = InboundMessage.objects.filter(
        facility=facility, state=MessageState.WAITING, patient_id=message.patient_id
    )
    return WaitingPatient(
        message_pk=message.pk,
        pharmacy_patient_id=message.patient_id,
        name=patient.name or "(no name sent)",
        birth_date=patient.birth_date,
        waiting=same.count(),
        since=message.received_at,
    )


def schedule_words(pending: PendingOrder) -> str:
    if pending.is_prn:
        hours = pending.prn_min_hours.normalize() if pending.prn_min_hours else "?"
        return f"PRN every {hours:f} h, max {pending.prn_max_per_24h} in 24 h"
    if not pending.times:
        return "—"
    return " and ".join(pending.times) + ", every day"


def dose_words(pending: PendingOrder) -> str:
    if pending.dose_amount is None:
        return "—"
    route = Route(pending.route).label.lower() if pending.route in Route.values else ""
    return f"{count_of(pending.dose_amount, pending.dose_unit or 'dose')} {route}".strip()


@dataclass(frozen=True)
class OrderReview:
    """A pending order beside the resident's current orders, and what accepting it would do."""

    pending: PendingOrder
    facts: list[tuple[str, str]]
    current_orders: list[Prescription]
    changes: list[str]
    warnings: list[str]


def order_review(*, facility: Facility, pk: int) -> OrderReview:
    """The decision page (raises PendingOrder.DoesNotExist outside the facility)."""
    pending = (
        PendingOrder.objects.filter(facility=facility)
        .select_related(
            "resident__unit", "medication", "target__medication", "message", "decided_by"
        )
        .get(pk=pk)
    )
    current = list(
        Prescription.objects.filter(resident=pending.resident)
        .exclude(status=OrderStatus.DISCONTINUED)
        .select_related("medication")
        .prefetch_related("hold_parameters")
        .order_by("medication__name", "pk")
    )
    drug = str(pending.medication) if pending.medication else "not in the catalog"
    facts = [
        ("What", pending.get_action_display()),
        ("Drug sent", f"{pending.drug_text or '(no name)'}, NDC {pending.ndc or '—'} ({drug})"),
    ]
    if pending.action in (OrderAction.NEW, OrderAction.CHANGE):
        facts += [
            ("Dose and route", dose_words(pending)),
            ("Schedule", schedule_words(pending)),
            ("Instructions", pending.instructions or "—"),
            ("Prescriber", pending.prescriber or "—"),
            ("Starts", pending.start_date.strftime("%Y-%m-%d") if pending.start_date else "today"),
        ]
        if pending.indication:
            facts.append(("Indication", pending.indication))
    facts += [
        ("Pharmacy order number", pending.order_number or "—"),
        ("Message", pending.message.control_id),
    ]
    target = pending.target
    changes, warnings = [], []
    adds = f"Adds {drug} — {dose_words(pending)}, {schedule_words(pending)} (after verification)"
    if pending.action == OrderAction.NEW:
        changes.append(adds)
    elif target is None:
        warnings.append(
            "No current order of this resident matches the pharmacy's order number or drug: "
            "choose the order it applies to."
        )
    else:
        verb = {
            OrderAction.CHANGE: "Stops",
            OrderAction.DISCONTINUE: "Stops",
            OrderAction.HOLD: "Holds",
            OrderAction.RELEASE: "Resumes",
        }[pending.action]
        changes.append(f"{verb} {target.medication} — {target.dose_text}, {target.schedule_text}")
        if pending.action == OrderAction.CHANGE:
            changes.append(adds)
    if pending.needs_medication:
        warnings.append(
            f"NDC {pending.ndc} is not in the catalog: choose the medication before accepting, "
            "or reject the order."
        )
    resident = pending.resident
    if pending.medication and pending.action in (OrderAction.NEW, OrderAction.CHANGE):
        if resident.allergy_status == AllergyStatus.NOT_RECORDED:
            warnings.append(
                f"{resident.display_name}'s allergies are not recorded: accepting needs a reason."
            )
        conflicts = allergy_conflicts(resident=resident, medication=pending.medication)
        if conflicts:
            warnings.append(
                f"ALLERGY: {resident.display_name} is allergic to {', '.join(conflicts)}: "
                "accepting needs a reason."
            )
    return OrderReview(
        pending=pending, facts=facts, current_orders=current, changes=changes, warnings=warnings
    )
