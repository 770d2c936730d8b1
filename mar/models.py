"""What the schedule asks for (ScheduledDose) and what needs a person's attention (Alert)."""

from django.conf import settings
from django.db import models

from accounts.models import Facility
from meds.models import Prescription
from medtech.audit import track
from residents.models import Resident


class DoseState(models.TextChoices):
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    MISSED = "missed", "Missed"
    DOCUMENTED = "documented", "Documented"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (DoseState.DUE, DoseState.OVERDUE)


@track(inserts=False)
class ScheduledDose(models.Model):
    """One dose the schedule asks for. Rows are made ahead by the beat and move by state."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="doses")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="doses")
    due_at = models.DateTimeField()
    window_opens_at = models.DateTimeField()
    window_closes_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=DoseState.choices, default=DoseState.DUE)
    # Why a dose was cancelled: "hold", "discontinued", "loa", "hospital", "discharged".
    cancel_reason = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "due_at"], name="dose_unique_due"),
            models.CheckConstraint(
                condition=models.Q(window_opens_at__lte=models.F("due_at"))
                & models.Q(due_at__lte=models.F("window_closes_at")),
                name="dose_window_around_due",
            ),
        ]
        indexes = [
            # The overdue sweep reads only open rows: cheap at any table size.
            models.Index(
                fields=["window_closes_at"],
                name="dose_open_sweep_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
            models.Index(fields=["facility", "due_at"], name="dose_facility_due_idx"),
            models.Index(fields=["resident", "due_at"], name="dose_resident_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prescription_id} at {self.due_at:%Y-%m-%d %H:%M}Z ({self.state})"


class AlertKind(models.TextChoices):
    OVERDUE_DOSE = "overdue_dose", "Overdue dose"
    MISSED_DOSE = "missed_dose", "Missed dose"
    PRN_FOLLOWUP = "prn_followup", "PRN follow-up due"
    REFUSALS = "refusals", "Refusals to report"
    LOW_SUPPLY = "low_supply", "Low supply"
    COUNT_DISCREPANCY = "count_discrepancy", "Count discrepancy"
    CERTIFICATION = "certification", "Certification"


class AlertSeverity(models.IntegerChoices):
    INFO = 1, "Info"
    WARNING = 2, "Warning"
    URGENT = 3, "Urgent"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


# Raising an alert is derived from row state by the sweep (its time is on the row); what people
# do with it (acknowledge, resolve) is tracked.
@track(inserts=False)
class Alert(models.Model):
    """Something a supervisor must see. One per (kind, subject): never a storm of duplicates."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="alerts")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    dose = models.ForeignKey(
        ScheduledDose, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    # What the alert is about, e.g. "dose:123"; with `kind` it identifies the alert.
    subject = models.CharField(max_length=64)
    severity = models.PositiveSmallIntegerField(
        choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    message = models.CharField(max_length=300)
    state = models.CharField(max_length=14, choices=AlertState.choices, default=AlertState.OPEN)
    created_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-severity", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="alert_unique_subject"),
        ]
        indexes = [
            models.Index(
                fields=["facility", "-severity", "-created_at"],
                name="alert_open_idx",
                condition=models.Q(state__in=["open", "acknowledged"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"
