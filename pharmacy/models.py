"""The pharmacy interface: who may send, what was received, and what waits for a nurse."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility
from core.audit import track
from inventory.models import StockItem
from meds.models import Medication, Prescription
from residents.models import Resident


@track()
class PharmacyInterface(models.Model):
    """A facility's dispensing pharmacy: its messages carry MSH-3 / MSH-4 as below; refill
    requests go to its host and port. One per facility, set by an administrator."""

    facility = models.OneToOneField(
        Facility, on_delete=models.PROTECT, related_name="pharmacy_interface"
    )
    sending_application = models.CharField(
        "Sending application (MSH-3)", max_length=180, help_text="e.g. MAPLE_RX"
    )
    sending_facility = models.CharField(
        "Sending facility (MSH-4)", max_length=180, help_text="e.g. MAPLE_GROVE"
    )
    enabled = models.BooleanField("Interface on", default=True)
    pharmacy_host = models.CharField("Pharmacy host (refill requests)", max_length=253, blank=True)
    pharmacy_port = models.PositiveIntegerField("Pharmacy port", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility"], name="pharmacy_sender_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(pharmacy_port__isnull=True)
                | models.Q(pharmacy_port__gte=1, pharmacy_port__lte=65535),
                name="pharmacy_port_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sending_application} / {self.sending_facility}"

    @property
    def sends_refills(self) -> bool:
        return self.enabled and bool(self.pharmacy_host) and bool(self.pharmacy_port)


class MessageState(models.TextChoices):
    RECEIVED = "received", "Received, to process"
    PROCESSED = "processed", "Processed"
    REFUSED = "refused", "Refused"
    ERROR = "error", "Could not be processed"
    WAITING = "waiting", "Waiting for the resident to be matched"


class AckCode(models.TextChoices):
    ACCEPTED = "AA", "Accepted"
    ERROR = "AE", "Application error"
    REJECTED = "AR", "Rejected"


class InboundMessage(models.Model):
    """One frame received by the listener, stored as it came (committed before the ACK is
    written). A control id (MSH-10) is stored once per interface: the same message sent again
    is answered again and counted (`times_received`), never processed twice."""

    interface = models.ForeignKey(
        PharmacyInterface, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raw = models.BinaryField()
    text = models.TextField(blank=True)  # the frame decoded, when it could be
    control_id = models.CharField(max_length=199, blank=True)
    sending_application = models.CharField(max_length=180, blank=True)
    sending_facility = models.CharField(max_length=180, blank=True)
    message_type = models.CharField(max_length=40, blank=True)  # e.g. RDE^O11
    peer = models.CharField(max_length=100, blank=True)  # the client's address
    state = models.CharField(max_length=10, choices=MessageState.choices)
    ack_code = models.CharField(max_length=2, choices=AckCode.choices)
    ack_reason = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)  # why processing failed
    patient_id = models.CharField(max_length=60, blank=True)  # PID-3, for the match queue
    received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    times_received = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["interface", "control_id"],
                condition=models.Q(interface__isnull=False) & ~models.Q(state="refused"),
                name="inbound_control_id_once",
            ),
        ]
        indexes = [
            # The beat's sweep: what was stored and acknowledged but not yet processed.
            models.Index(
                fields=["received_at"],
                name="inbound_to_process_idx",
                condition=models.Q(state="received"),
            ),
            models.Index(
                fields=["facility", "patient_id"],
                name="inbound_waiting_idx",
                condition=models.Q(state="waiting"),
            ),
        ]

    def __str__(self) -> str:
        kind = self.message_type or "message"
        return f"{kind} {self.control_id or '(no control id)'}"


@track()
class PatientLink(models.Model):
    """The pharmacy's identifier of a patient (PID-3) is this resident."""

    interface = models.ForeignKey(
        PharmacyInterface, on_delete=models.PROTECT, related_name="patient_links"
    )
    pharmacy_patient_id = models.CharField("Pharmacy patient id", max_length=60)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["interface", "pharmacy_patient_id"], name="patient_link_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pharmacy_patient_id} → {self.resident}"


class OrderAction(models.TextChoices):
    NEW = "new", "New order"
    CHANGE = "change", "Change (discontinue + new)"
    DISCONTINUE = "discontinue", "Discontinue"
    HOLD = "hold", "Hold"
    RELEASE = "release", "Release (resume)"


# ORC-1 order control codes -> what the pending order asks.
ORDER_CONTROLS = {
    "NW": OrderAction.NEW,
    "XO": OrderAction.CHANGE,
    "DC": OrderAction.DISCONTINUE,
    "HD": OrderAction.HOLD,
    "RL": OrderAction.RELEASE,
}


class Decision(models.TextChoices):
    PENDING = "pending", "Waiting for a nurse"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


@track()
class PendingOrder(models.Model):
    """A pharmacy's order (one ORC/RXE group of an RDE^O11) waiting for a nurse. Nothing reaches
    the MAR before she accepts it: a new order then enters the verification queue like a typed
    one; a discontinue, hold or release goes through the order services."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(
        InboundMessage, on_delete=models.PROTECT, related_name="pending_orders"
    )
    position = models.PositiveSmallIntegerField(default=0)  # the group's place in the message
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=12, choices=OrderAction.choices)
    order_number = models.CharField(max_length=60, blank=True)  # ORC-3 (else ORC-2)
    ndc = models.CharField("NDC", max_length=11, blank=True)  # 11 digits, as canonical
    drug_text = models.CharField(max_length=200, blank=True)  # RXE-2's text, as sent
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose_amount = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, blank=True)
    route = models.CharField(max_length=16, blank=True)
    times = models.JSONField(default=list, blank=True)  # ["08:00", "20:00"]
    is_prn = models.BooleanField(default=False)
    prn_min_hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    prn_max_per_24h = models.PositiveSmallIntegerField(null=True, blank=True)
    instructions = models.CharField(max_length=300, blank=True)
    indication = models.CharField(max_length=200, blank=True)
    prescriber = models.CharField(max_length=120, blank=True)
    start_date = models.DateField(null=True, blank=True)
    stop_date = models.DateField(null=True, blank=True)
    # The resident's current order this one changes, stops, holds or releases.
    target = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_order = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="pending_order_once"),
            models.CheckConstraint(
                condition=models.Q(status="pending")
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
                name="pending_order_decided_by_whom",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(reason=""),
                name="pending_order_rejected_with_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["facility", "created_at"],
                name="pending_order_inbox_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        what = self.medication or self.drug_text or f"NDC {self.ndc}"
        return f"{self.get_action_display()}: {what}"

    @property
    def needs_medication(self) -> bool:
        return self.action in (OrderAction.NEW, OrderAction.CHANGE) and self.medication_id is None


class ReceiptState(models.TextChoices):
    PENDING = "pending", "Waiting to be received"
    RECEIVED = "received", "Received into stock"
    REJECTED = "rejected", "Not received"


@track()
class DispenseReceipt(models.Model):
    """A dispense (RDS^O13): a delivery on its way, prefilled for the stock receipt a nurse or
    med tech confirms when it arrives."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(InboundMessage, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    order_number = models.CharField(max_length=60, blank=True)
    ndc = models.CharField("NDC", max_length=11, blank=True)
    drug_text = models.CharField(max_length=200, blank=True)
    medication = models.ForeignKey(
        Medication, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    lot = models.CharField(max_length=40, blank=True)
    expiry = models.DateField(null=True, blank=True)
    rx_number = models.CharField(max_length=40, blank=True)
    state = models.CharField(
        max_length=10, choices=ReceiptState.choices, default=ReceiptState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="dispense_receipt_once"),
        ]

    def __str__(self) -> str:
        return f"Delivery of {self.medication or self.drug_text or self.ndc}"


class RefillState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent, waiting for the pharmacy"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    REJECTED = "rejected", "Rejected"
    DELIVERED = "delivered", "Delivered"


@track()
class RefillRequest(models.Model):
    """A refill asked of the pharmacy from the reorder list, sent as RDE^O25 by a worker."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    interface = models.ForeignKey(PharmacyInterface, on_delete=models.PROTECT, related_name="+")
    stock_item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="+")
    control_id = models.CharField(max_length=40, unique=True)
    state = models.CharField(max_length=12, choices=RefillState.choices, default="queued")
    reason = models.CharField(max_length=300, blank=True)  # the pharmacy's, when rejected
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One open request per supply.
            models.UniqueConstraint(
                fields=["stock_item"],
                condition=models.Q(state__in=["queued", "sent", "acknowledged"]),
                name="refill_one_open_per_item",
            ),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"],
                name="refill_queued_idx",
                condition=models.Q(state="queued"),
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="refill_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"Refill {self.control_id}"
