"""A frame from the listener: stored, committed, then answered. Synchronous (the listener calls it
in a worker thread); one transaction per frame, committed before the ACK is returned.

The frame is decoded, parsed and checked before it is stored, so the row says how it was
answered: `received` (AA; processed after the ACK by a worker, or by the beat's sweep) or
`refused` (AR / AE with the reason). A control id already stored for the same pharmacy is
answered as it was the first time and counted; it is never processed again.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from . import messages
from .models import AckCode, InboundMessage, MessageState, PharmacyInterface

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    ack: str  # the ACK message, as text
    message_id: int | None
    code: str
    duplicate: bool = False


def _queue_processing(message_id: int) -> None:
    def callback() -> None:
        try:
            import_string(settings.PHARMACY_PROCESS_QUEUE)(message_id)
        except Exception:  # the beat's sweep is the guarantee; this is only to be quick
            log.warning("Could not queue pharmacy message %s", message_id, exc_info=True)

    transaction.on_commit(callback)


def _control_id() -> str:
    return uuid.uuid4().hex[:20].upper()


def _close_stale() -> None:
    """Drop this thread's connection when it is broken or too old (never inside a transaction:
    a caller's, or a test's)."""
    if not connection.in_atomic_block:
        close_old_connections()


def frame_receive(raw: bytes, *, peer: str = "", now: datetime.datetime | None = None) -> Answer:
    """Store one MLLP frame's content and return the ACK to write back (after the commit)."""
    _close_stale()
    try:
        return _receive(raw, peer=peer, now=now or timezone.now())
    finally:
        _close_stale()


def _receive(raw: bytes, *, peer: str, now: datetime.datetime) -> Answer:
    found = messages.header_from_raw(raw)
    text = ""
    interface = None
    refusal = None
    try:
        text = messages.normalise_segments(messages.decode(raw))
        message = messages.parse(text)
        found = messages.header(message)
        messages.check_header(found)
        interface = (
            PharmacyInterface.objects.filter(
                sending_application=found.sending_application,
                sending_facility=found.sending_facility,
            )
            .select_related("facility")
            .first()
        )
        if interface is None:
            raise messages.Refusal(
                "AR",
                f"Sender {found.sending_application}/{found.sending_facility} (MSH-3/MSH-4) is "
                "not a pharmacy any facility knows.",
                messages.UNKNOWN_KEY,
            )
        if not interface.enabled:
            raise messages.Refusal(
                "AR",
                f"The interface of {interface.facility.name} with this pharmacy is switched off.",
                messages.UNKNOWN_KEY,
            )
        patient = messages.content(message).patient
    except messages.Refusal as error:
        refusal = error
        patient = None
    except Exception as error:  # a message that breaks the parser is refused, never a crash
        log.exception("Pharmacy frame could not be read")
        refusal = messages.Refusal("AR", f"The message could not be read: {error}")
        patient = None

    fields = {
        "interface": interface,
        "facility": interface.facility if interface else None,
        "raw": raw,
        "text": text,
        "control_id": found.control_id[:199],
        "sending_application": found.sending_application[:180],
        "sending_facility": found.sending_facility[:180],
        "message_type": found.message_type[:40],
        "peer": peer[:100],
        "patient_id": patient.pharmacy_id if patient else "",
        "received_at": now,
        "last_received_at": now,
    }
    ack_id = _control_id()
    if refusal is not None:
        with transaction.atomic():
            stored = InboundMessage.objects.create(
                **fields,
                state=MessageState.REFUSED,
                ack_code=refusal.code,
                ack_reason=refusal.reason,
            )
        ack = messages.ack(
            found,
            code=refusal.code,
            reason=refusal.reason,
            control_id=ack_id,
            application=settings.HL7_APPLICATION,
            now=now,
            error=refusal.error,
        )
        return Answer(ack=ack, message_id=stored.pk, code=refusal.code)

    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = InboundMessage.objects.create(
                    **fields, state=MessageState.RECEIVED, ack_code=AckCode.ACCEPTED
                )
        except IntegrityError:
            stored = None
        if stored is not None:
            _queue_processing(stored.pk)
            duplicate = False
        else:
            # The same control id from the same pharmacy: answer as before, count it.
            stored = InboundMessage.objects.select_for_update().get(
                interface=interface, control_id=found.control_id, state__in=_NOT_REFUSED
            )
            InboundMessage.objects.filter(pk=stored.pk).update(
                times_received=F("times_received") + 1, last_received_at=now
            )
            duplicate = True
    reason = (
        "Duplicate of a message already received; it is processed once."
        if duplicate
        else "Received"
    )
    ack = messages.ack(
        found,
        code=stored.ack_code,
        reason=reason if stored.ack_code == AckCode.ACCEPTED else stored.ack_reason,
        control_id=ack_id,
        application=settings.HL7_APPLICATION,
        now=now,
    )
    return Answer(ack=ack, message_id=stored.pk, code=stored.ack_code, duplicate=duplicate)


_NOT_REFUSED = [state for state in MessageState.values if state != MessageState.REFUSED]


def broken_frame_receive(raw: bytes, *, reason: str, peer: str = "") -> Answer:
    """A frame the MLLP layer could not read (no start block, too long): stored refused, AR."""
    _close_stale()
    try:
        now = timezone.now()
        found = messages.header_from_raw(raw)
        with transaction.atomic():
            stored = InboundMessage.objects.create(
                raw=raw,
                control_id=found.control_id[:199],
                sending_application=found.sending_application[:180],
                sending_facility=found.sending_facility[:180],
                message_type=found.message_type[:40],
                peer=peer[:100],
                state=MessageState.REFUSED,
                ack_code=AckCode.REJECTED,
                ack_reason=reason[:300],
                received_at=now,
                last_received_at=now,
            )
        ack = messages.ack(
            found,
            code="AR",
            reason=reason,
            control_id=_control_id(),
            application=settings.HL7_APPLICATION,
            now=now,
            error=messages.SEGMENT_SEQUENCE_ERROR,
        )
        return Answer(ack=ack, message_id=stored.pk, code="AR")
    finally:
        _close_stale()
