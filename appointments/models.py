"""Appointments outside the facility: the visit, its transport, the time away and the outcome."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility
from core.audit import track
from meds.models import DatedHold, Prescription
from residents.models import Resident


class AppointmentState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OUT = "out", "Out — appointment"
    BACK = "back", "Back, outcome to record"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# The states that still need an outcome (the 4-hour alert watches them).
OPEN_STATES = (AppointmentState.SCHEDULED, AppointmentState.OUT, AppointmentState.BACK)


class Transport(models.TextChoices):
    VAN = "van", "Facility van"
    FAMILY = "family", "Family"
    MEDICAL = "medical", "Medical transport"
    AMBULANCE = "ambulance", "Ambulance"


class Seen(models.TextChoices):
    SEEN = "seen", "Seen"
    NOT_SEEN = "not_seen", "Not seen"


@track()
class Appointment(models.Model):
    """One visit to a provider outside the facility. Times are aware UTC, entered and read in the
    facility's zone. Every write goes through services.py, which checks `version` (a change
    made meanwhile by someone else is refused, never overwritten) and the pghistory triggers
    keep every state it passed through."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="appointments")
    provider_name = models.CharField("Provider", max_length=120)
    provider_specialty = models.CharField("Specialty", max_length=80, blank=True)
    provider_address = models.CharField("Address", max_length=300, blank=True)
    provider_phone = models.CharField("Phone", max_length=40, blank=True)
    starts_at = models.DateTimeField("Appointment at")
    expected_return_at = models.DateTimeField("Expected back")
    purpose = models.CharField(max_length=300)

    transport = models.CharField(max_length=10, choices=Transport.choices)
    transport_booker = models.CharField("Who books the transport", max_length=120, blank=True)
    pickup_at = models.DateTimeField("Pick-up", null=True, blank=True)
    transport_booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    transport_booked_at = models.DateTimeField(null=True, blank=True)
    transport_note = models.CharField("Booking reference", max_length=200, blank=True)
    escort = models.CharField(max_length=120, blank=True)
    bring_medication_list = models.BooleanField("Medication list", default=True)
    bring_insurance_card = models.BooleanField("Insurance card", default=True)
    bring_mar = models.BooleanField("The MAR", default=False)
    fasting = models.BooleanField("Fasting", default=False)
    instructions = models.CharField(max_length=500, blank=True)

    state = models.CharField(
        max_length=10, choices=AppointmentState.choices, default=AppointmentState.SCHEDULED
    )
    # Bumped by every write: a form carries the version it was read at.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seen = models.CharField(max_length=10, choices=Seen.choices, blank=True)
    outcome_notes = models.CharField("What the provider said", max_length=2000, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # When the "outcome not recorded" alert was raised (the sweep raises it once).
    outcome_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["facility", "starts_at"], name="appointment_calendar_idx"),
            models.Index(fields=["resident", "starts_at"], name="appointment_resident_idx"),
            # The outcome sweep: the open appointments not yet alerted, by expected return.
            models.Index(
                fields=["facility", "expected_return_at"],
                name="appointment_outcome_sweep_idx",
                condition=models.Q(
                    state__in=["scheduled", "out", "back"], outcome_alerted_at__isnull=True
                ),
            ),
            # The board and the dose sweep: who is out right now.
            models.Index(
                fields=["resident"], name="appointment_out_idx", condition=models.Q(state="out")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expected_return_at__gt=models.F("starts_at")),
                name="appointment_return_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["out", "back", "closed"])
                | models.Q(state="closed", left_at__isnull=True)
                | models.Q(left_at__isnull=False, left_by__isnull=False),
                name="appointment_left_when",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="closed")
                | (~models.Q(seen="") & models.Q(outcome_at__isnull=False)),
                name="appointment_closed_with_outcome",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="cancelled") | ~models.Q(cancel_reason=""),
                name="appointment_cancelled_why",
            ),
            # One appointment out at a time per resident.
            models.UniqueConstraint(
                fields=["resident"], condition=models.Q(state="out"), name="appointment_one_out"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="appointment_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        specialty = f" ({self.provider_specialty})" if self.provider_specialty else ""
        return f"{self.provider_name}{specialty}"

    @property
    def transport_booked(self) -> bool:
        return self.transport_booked_at is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def bring_list(self) -> list[str]:
        return [
            label
            for flag, label in (
                (self.bring_medication_list, "medication list"),
                (self.bring_insurance_card, "insurance card"),
                (self.bring_mar, "the MAR"),
            )
            if flag
        ]


@track()
class AppointmentHold(models.Model):
    """A dated hold the appointment's instructions placed on one of the resident's orders
    (meds.DatedHold: verified by a nurse before it stops a dose)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="holds")
    hold = models.OneToOneField(
        DatedHold, on_delete=models.PROTECT, related_name="appointment_hold"
    )

    class Meta:
        ordering = ["pk"]
        triggers = [
            pgtrigger.Protect(
                name="appointment_hold_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment}: hold {self.hold_id}"


class OrderChange(models.TextChoices):
    NEW = "new", "New order"
    CHANGED = "changed", "Changed order"


@track()
class AppointmentOrder(models.Model):
    """An order the provider wrote or changed at the appointment, entered with its outcome. It
    waits in the verification queue like any other (nothing reaches the MAR before a nurse
    verifies it)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="orders")
    prescription = models.OneToOneField(Prescription, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(max_length=10, choices=OrderChange.choices)

    class Meta:
        ordering = ["pk"]
        triggers = [
            pgtrigger.Protect(
                name="appointment_order_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment}: {self.get_change_display().lower()}"
