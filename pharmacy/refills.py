"""Refill requests out to the pharmacy: a row per request (queued -> sent -> acknowledged /
rejected -> delivered), sent as RDE^O25 over MLLP by a worker with retries and back-off, and
re-sent by the beat's sweep while queued (the broker may have lost the task). The network is
never touched inside a transaction: the row is marked sent and committed, the message goes out,
then the answer is recorded."""

import asyncio
import datetime
import logging
import uuid

import hl7
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from hl7.mllp import open_hl7_connection

from accounts.models import Facility, Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from inventory.models import StockItem
from inventory.services import stock_mark_ordered
from meds.barcodes import ndc_11

from . import messages
from .models import PatientLink, PharmacyInterface, RefillRequest, RefillState

log = logging.getLogger(__name__)

OPEN = (RefillState.QUEUED, RefillState.SENT, RefillState.ACKNOWLEDGED)
CONNECT_SECONDS = 5
ACK_SECONDS = 10
# A request marked sent whose answer never came is sent again after this (same control id:
# the pharmacy answers a duplicate as it did the first time).
RESEND_AFTER = datetime.timedelta(minutes=5)


class PharmacyUnreachable(Exception):  # noqa: N818 - the worker retries it
    """The pharmacy could not be reached, or did not answer in time."""


def _queue_send(refill_id: int) -> None:
    def callback() -> None:
        try:
            import_string(settings.PHARMACY_REFILL_QUEUE)(refill_id)
        except Exception:  # the beat's sweep sends it; this is only to be quick
            log.warning("Could not queue refill %s", refill_id, exc_info=True)

    transaction.on_commit(callback)


def refill_statuses(*, facility: Facility, supplies: list) -> None:
    """Set `refill` (the latest request) and `can_request_refill` on each reorder-list supply:
    two queries, whatever the list's length."""
    interface = PharmacyInterface.objects.filter(facility=facility).first()
    if interface is None or not supplies:
        return
    latest: dict[int, RefillRequest] = {}
    for refill in RefillRequest.objects.filter(
        stock_item__in=[supply.item.pk for supply in supplies]
    ).order_by("stock_item_id", "-requested_at", "-pk"):
        latest.setdefault(refill.stock_item_id, refill)
    for supply in supplies:
        supply.refill = latest.get(supply.item.pk)
        supply.can_request_refill = (
            interface.sends_refills
            and supply.item.resident_id is not None
            and (supply.refill is None or supply.refill.state not in OPEN)
        )


@transaction.atomic
def refill_request(
    *, actor: User, item: StockItem, now: datetime.datetime | None = None
) -> RefillRequest:
    """Ask the facility's pharmacy for a refill of a resident's supply (one click from the
    reorder list): a queued request, sent by a worker after the commit. The item is marked
    ordered, as by hand."""
    now = now or timezone.now()
    item = (
        StockItem.objects.select_for_update(of=("self",)).select_related("resident").get(pk=item.pk)
    )
    if membership_role(user=actor, facility_id=item.facility_id) not in (Role.NURSE, Role.ADMIN):
        raise DomainError("Only nurses and administrators can request refills.")
    interface = PharmacyInterface.objects.filter(facility_id=item.facility_id).first()
    if interface is None or not interface.sends_refills:
        raise DomainError(
            "This facility sends no refill requests to its pharmacy: order by hand and mark the "
            "item ordered."
        )
    if item.resident_id is None:
        raise DomainError("House stock is ordered by hand.")
    if not PatientLink.objects.filter(interface=interface, resident=item.resident).exists():
        raise DomainError(
            f"The pharmacy does not know {item.resident.display_name} yet (no order from it "
            "has been matched): order by hand."
        )
    try:
        with transaction.atomic():
            refill = RefillRequest.objects.create(
                facility_id=item.facility_id,
                interface=interface,
                stock_item=item,
                control_id=f"RF{uuid.uuid4().hex[:18].upper()}",
                requested_by=actor,
                requested_at=now,
            )
    except IntegrityError:
        raise DomainError("A refill of this supply is already requested.") from None
    if item.ordered_at is None:
        stock_mark_ordered(actor=actor, item=item)
    _queue_send(refill.pk)
    return refill


def _message(refill: RefillRequest, now: datetime.datetime) -> str:
    item = refill.stock_item
    resident = item.resident
    link = PatientLink.objects.filter(interface=refill.interface, resident=resident).first()
    medication = item.medication
    ndc = ""
    if medication.ndc:
        try:
            ndc = ndc_11(medication.ndc)
        except ValueError:
            ndc = ""
    return messages.refill_request(
        application=settings.HL7_APPLICATION,
        facility_name=refill.facility.name,
        receiving_application=refill.interface.sending_application,
        receiving_facility=refill.interface.sending_facility,
        control_id=refill.control_id,
        now=now,
        patient_id=link.pharmacy_patient_id if link else "",
        family_name=resident.last_name,
        given_name=resident.first_name,
        birth_date=resident.date_of_birth,
        order_number=item.movements.exclude(rx_number="")
        .values_list("rx_number", flat=True)
        .order_by("-at")
        .first()
        or "",
        ndc=ndc,
        drug_text=str(medication),
        quantity="",
        unit=item.unit_of_count,
    )


async def _exchange(host: str, port: int, text: str) -> str:
    try:
        reader, writer = await asyncio.wait_for(
            open_hl7_connection(host, port, encoding="utf-8"), CONNECT_SECONDS
        )
    except (OSError, TimeoutError) as error:
        raise PharmacyUnreachable(f"{host}:{port}: {error or 'timed out'}") from None
    try:
        writer.writemessage(hl7.parse(text))
        await writer.drain()
        ack = await asyncio.wait_for(reader.readmessage(), ACK_SECONDS)
        return str(ack)
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
        raise PharmacyUnreachable(f"{host}:{port}: {error or 'no answer'}") from None
    finally:
        writer.close()


def refill_send(*, refill_id: int, now: datetime.datetime | None = None) -> str:
    """Send one request and record the pharmacy's answer (AA: acknowledged; AE / AR: rejected
    with its reason). Raises PharmacyUnreachable (the row stays queued) for the worker to retry.
    Returns the state it ends in, or "skipped" when there is nothing to send."""
    now = now or timezone.now()
    with transaction.atomic():
        refill = (
            RefillRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "interface", "facility", "stock_item__resident", "stock_item__medication"
            )
            .filter(pk=refill_id)
            .filter(
                Q(state=RefillState.QUEUED)
                | Q(state=RefillState.SENT, sent_at__lte=now - RESEND_AFTER)
            )
            .first()
        )
        if refill is None:
            return "skipped"
        text = _message(refill, now)
        host, port = refill.interface.pharmacy_host, refill.interface.pharmacy_port
        refill.state, refill.sent_at = RefillState.SENT, now
        refill.attempts += 1
        refill.save(update_fields=["state", "sent_at", "attempts"])
    try:
        if not (host and port):
            raise PharmacyUnreachable("The pharmacy's host and port are not set.")
        answer = messages.read_ack(asyncio.run(_exchange(host, port, text)))
    except (PharmacyUnreachable, messages.Refusal):
        RefillRequest.objects.filter(pk=refill.pk, state=RefillState.SENT).update(
            state=RefillState.QUEUED
        )
        raise
    with transaction.atomic():
        refill = RefillRequest.objects.select_for_update().get(pk=refill.pk)
        if refill.state != RefillState.SENT:
            return refill.state
        if answer.code in ("AA", "CA"):
            refill.state, refill.reason = RefillState.ACKNOWLEDGED, ""
        else:
            refill.state = RefillState.REJECTED
            refill.reason = (answer.reason or f"The pharmacy answered {answer.code}.")[:300]
        refill.answered_at = timezone.now()
        refill.save(update_fields=["state", "reason", "answered_at"])
        return refill.state


def refills_send_queued(*, now: datetime.datetime | None = None) -> int:
    """The beat's sweep: send what is still queued (and what was sent without an answer long
    ago). A pharmacy that cannot be reached is tried again at the next sweep."""
    now = now or timezone.now()
    ids = list(
        RefillRequest.objects.filter(
            Q(state=RefillState.QUEUED) | Q(state=RefillState.SENT, sent_at__lte=now - RESEND_AFTER)
        )
        .order_by("requested_at", "pk")
        .values_list("pk", flat=True)[:100]
    )
    sent = 0
    for refill_id in ids:
        try:
            if refill_send(refill_id=refill_id, now=now) != "skipped":
                sent += 1
        except (PharmacyUnreachable, messages.Refusal) as error:
            log.warning("Refill %s not sent: %s", refill_id, error)
    return sent


def refills_delivered(*, resident_id: int, medication_id: int, at: datetime.datetime) -> int:
    """A dispense of this drug for this resident arrived: their open requests are delivered."""
    return RefillRequest.objects.filter(
        stock_item__resident_id=resident_id,
        stock_item__medication_id=medication_id,
        state__in=[RefillState.SENT, RefillState.ACKNOWLEDGED, RefillState.QUEUED],
    ).update(state=RefillState.DELIVERED, delivered_at=at)
