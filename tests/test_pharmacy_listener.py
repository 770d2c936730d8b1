"""The MLLP listener end to end, over a real TCP socket, with clients the project does not write:
python-hl7's blocking `MLLPClient`, its asyncio `open_hl7_connection`, and its `mllp_send`
command. Every frame received is stored (and committed) before its ACK is read by the client."""

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import hl7
import pytest
from django.utils import timezone
from hl7.client import MLLPClient
from hl7.mllp import open_hl7_connection

from pharmacy import services
from pharmacy.models import (
    Decision,
    InboundMessage,
    MessageState,
    OrderAction,
    PendingOrder,
)
from tests.factories import PrescriptionFactory
from tests.pharmacy_support import (
    catalog,
    interface_for,
    link,
    no_known_allergies,
    rde,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def maple(facility, resident):
    interface = interface_for(facility)
    link(interface, no_known_allergies(resident))
    return interface


def _ack(raw: bytes) -> hl7.Message:
    return hl7.parse(raw.strip(b"\x0b\x1c\r").decode("utf-8"))


def _msa(ack: hl7.Message) -> tuple[str, str, str]:
    msa = ack.segment("MSA")
    return str(msa[1]), str(msa[2]), str(msa[3]) if len(msa) > 3 else ""


def _send(port: int, message) -> hl7.Message:
    """Send one message with python-hl7's MLLPClient; when its ACK arrives, the frame must
    already be in the database (read here, from another connection than the listener's)."""
    sent_at = timezone.now()
    with MLLPClient("127.0.0.1", port) as client:
        answer = client.send_message(message)
    assert InboundMessage.objects.filter(last_received_at__gte=sent_at).exists()
    return _ack(answer)


def test_new_order_is_stored_acknowledged_then_processed_into_a_pending_order(
    listener, maple, resident, queued_pharmacy_messages
):
    metoprolol = catalog()

    ack = _send(listener.port, rde("MSG0001"))

    assert _msa(ack)[:2] == ("AA", "MSG0001")
    assert str(ack.segment("MSH")[9]) == "ACK^O11^ACK"
    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == rde("MSG0001").encode()
    assert (stored.state, stored.ack_code, stored.message_type) == ("received", "AA", "RDE^O11")
    assert queued_pharmacy_messages == [stored.pk]

    assert services.message_process(message_id=stored.pk) == MessageState.PROCESSED
    pending = PendingOrder.objects.get()
    assert (pending.action, pending.resident, pending.medication) == ("new", resident, metoprolol)
    assert pending.times == ["08:00", "20:00"]
    assert (pending.route, pending.prescriber) == ("oral", "Dr John Smith")
    assert pending.status == Decision.PENDING


def test_each_frame_is_committed_before_its_ack_is_written(listener, maple):
    """Over one connection (the asyncio client), every ACK read finds its frame stored."""

    async def exchange() -> list[tuple[str, int]]:
        reader, writer = await open_hl7_connection("127.0.0.1", listener.port, encoding="utf-8")
        seen = []
        for number in range(5):
            writer.writemessage(hl7.parse(rde(f"SEQ{number}")))
            await writer.drain()
            ack = await asyncio.wait_for(reader.readmessage(), 5)
            control_id = str(ack.segment("MSA")[2])
            stored = await asyncio.to_thread(_stored_and_close, control_id)
            seen.append((control_id, stored))
        writer.close()
        await writer.wait_closed()
        return seen

    seen = asyncio.run(exchange())

    assert seen == [(f"SEQ{number}", 1) for number in range(5)]


def _stored_and_close(control_id: str) -> int:
    from django.db import connection

    try:
        return InboundMessage.objects.filter(control_id=control_id).count()
    finally:
        connection.close()


def test_change_and_discontinue_name_the_order_the_first_message_entered(
    listener, maple, resident, nurse_user
):
    catalog()
    _send(listener.port, rde("NEW1", order="F200"))
    services.message_process(message_id=InboundMessage.objects.get(control_id="NEW1").pk)
    first = services.pending_order_accept(actor=nurse_user, pending=PendingOrder.objects.get())
    order = first.created_order

    change = _send(listener.port, rde("XO1", control="XO", order="F200", amount="2"))
    stop = _send(listener.port, rde("DC1", control="DC", order="F200"))

    assert _msa(change)[0] == _msa(stop)[0] == "AA"
    for control_id in ("XO1", "DC1"):
        services.message_process(message_id=InboundMessage.objects.get(control_id=control_id).pk)
    changed = PendingOrder.objects.get(message__control_id="XO1")
    stopped = PendingOrder.objects.get(message__control_id="DC1")
    assert (changed.action, changed.target, changed.dose_amount) == ("change", order, 2)
    assert (stopped.action, stopped.target) == (OrderAction.DISCONTINUE, order)


def test_the_same_control_id_twice_is_acknowledged_twice_and_processed_once(
    listener, maple, queued_pharmacy_messages
):
    catalog()

    first = _send(listener.port, rde("DUP1"))
    second = _send(listener.port, rde("DUP1"))

    assert _msa(first)[:2] == _msa(second)[:2] == ("AA", "DUP1")
    assert "processed once" in _msa(second)[2]
    stored = InboundMessage.objects.get()
    assert stored.times_received == 2
    assert queued_pharmacy_messages == [stored.pk]
    services.message_process(message_id=stored.pk)
    services.message_process(message_id=stored.pk)
    services.messages_process_received()
    assert PendingOrder.objects.count() == 1


def test_a_malformed_message_is_refused_AR_and_stored_refused(listener, maple):
    ack = _send(listener.port, b"this is not an HL7 message\r")

    assert _msa(ack)[0] == "AR"
    assert "MSH" in _msa(ack)[2]
    assert ack.segment("ERR") is not None
    stored = InboundMessage.objects.get()
    assert (stored.state, stored.ack_code) == ("refused", "AR")
    assert bytes(stored.raw) == b"this is not an HL7 message\r"


def test_a_message_missing_its_order_control_is_answered_AE_with_the_field(listener, maple):
    ack = _send(listener.port, rde("BAD1", control="ZZ"))

    code, control_id, reason = _msa(ack)
    assert (code, control_id) == ("AE", "BAD1")
    assert "ORC-1" in reason
    assert InboundMessage.objects.get().state == "refused"


def test_an_unknown_sender_is_refused_AR_and_stored_refused(listener, maple):
    ack = _send(listener.port, rde("UNK1", sender=("OTHER_RX", "ELSEWHERE")))

    code, control_id, reason = _msa(ack)
    assert (code, control_id) == ("AR", "UNK1")
    assert "OTHER_RX/ELSEWHERE" in reason
    stored = InboundMessage.objects.get()
    assert (stored.state, stored.interface, stored.sending_application) == (
        "refused",
        None,
        "OTHER_RX",
    )


def test_an_unknown_patient_waits_to_be_matched_then_is_processed(
    listener, maple, facility, resident, nurse_user
):
    catalog()
    other = no_known_allergies(type(resident).objects.create(
        facility=facility, unit=resident.unit, first_name="Grace", last_name="Hopper",
        date_of_birth="1936-12-09", admission_date="2024-01-02", room="12",
        present_since=resident.present_since,
    ))  # fmt: skip

    ack = _send(listener.port, rde("PAT1", patient="RX9999", name="Hopper^Grace"))

    assert _msa(ack)[0] == "AA"
    stored = InboundMessage.objects.get()
    assert services.message_process(message_id=stored.pk) == MessageState.WAITING
    assert not PendingOrder.objects.exists()
    processed = services.patient_match(
        actor=nurse_user, facility=facility, pharmacy_patient_id="RX9999", resident=other
    )
    assert processed == 1
    assert PendingOrder.objects.get().resident == other
    stored.refresh_from_db()
    assert stored.state == MessageState.PROCESSED


def test_an_unknown_ndc_is_accepted_and_the_pending_order_says_so(listener, maple):
    ack = _send(listener.port, rde("NDC1", ndc="99999999999", drug="Unheard-of 5 mg tablet"))

    assert _msa(ack)[0] == "AA"
    services.messages_process_received()
    pending = PendingOrder.objects.get()
    assert pending.medication is None and pending.needs_medication
    assert (pending.ndc, pending.drug_text) == ("99999999999", "Unheard-of 5 mg tablet")


def test_a_message_in_the_wrong_encoding_is_refused_AR_and_stored(listener, maple):
    latin1 = rde("ENC1", name="Müller^Jürgen").encode("latin-1")  # MSH-18 says UTF-8

    ack = _send(listener.port, latin1)

    code, control_id, reason = _msa(ack)
    assert (code, control_id) == ("AR", "ENC1")
    assert "not valid UNICODE UTF-8" in reason
    stored = InboundMessage.objects.get()
    assert (stored.state, bytes(stored.raw)) == ("refused", latin1)


def test_a_message_that_declares_latin1_is_read_as_latin1(listener, maple):
    ack = _send(
        listener.port, rde("ENC2", name="Müller^Jürgen", charset="8859/1").encode("latin-1")
    )

    assert _msa(ack)[0] == "AA"
    assert "Müller^Jürgen" in InboundMessage.objects.get().text


def test_a_connection_dropped_mid_frame_stores_nothing_and_the_server_keeps_serving(
    listener, maple
):
    whole = b"\x0b" + rde("CUT1").encode()
    with socket.create_connection(("127.0.0.1", listener.port)) as cut:
        cut.sendall(whole[: len(whole) // 2])
    # A frame is stored only when its end arrives; the next connection is served as usual.

    ack = _send(listener.port, rde("AFTER1"))

    assert _msa(ack)[:2] == ("AA", "AFTER1")
    assert list(InboundMessage.objects.values_list("control_id", flat=True)) == ["AFTER1"]


def test_segments_ending_in_newlines_are_read_like_carriage_returns(listener, maple):
    ack = _send(listener.port, rde("LF1", separator="\n"))

    assert _msa(ack)[0] == "AA"


@pytest.mark.skipif(shutil.which("mllp_send", path=str(Path(sys.executable).parent)) is None,
                    reason="python-hl7's mllp_send is not installed")  # fmt: skip
def test_the_mllp_send_command_of_python_hl7_delivers_an_order(listener, maple, tmp_path):
    catalog()
    path = tmp_path / "order.hl7"
    path.write_bytes(b"\x0b" + rde("CLI1").encode() + b"\x1c\r")
    command = str(Path(sys.executable).parent / "mllp_send")

    started = time.monotonic()
    done = subprocess.run(
        [command, "-p", str(listener.port), "-f", str(path), "127.0.0.1"],
        capture_output=True,
        timeout=30,
    )

    assert done.returncode == 0, done.stderr
    assert b"MSA|AA|CLI1" in done.stdout
    assert time.monotonic() - started < 10
    assert InboundMessage.objects.get().control_id == "CLI1"


def test_an_ack_comes_within_a_second(listener, maple):
    with MLLPClient("127.0.0.1", listener.port) as client:
        started = time.monotonic()
        answer = client.send_message(rde("FAST1"))
        elapsed = time.monotonic() - started

    assert b"MSA|AA|FAST1" in answer
    assert elapsed < 1.0


def test_an_order_for_an_existing_typed_order_is_found_by_its_medication(
    listener, maple, resident, nurse_user
):
    metoprolol = catalog()
    typed = PrescriptionFactory(resident=resident, medication=metoprolol, entered_by=nurse_user)

    _send(listener.port, rde("HD1", control="HD", order="F999"))
    services.messages_process_received()

    held = PendingOrder.objects.get()
    assert (held.action, held.target) == ("hold", typed)
