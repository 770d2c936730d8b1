"""A unit's shift report (one per unit and shift: open -> submitted -> acknowledged), and the
handoff notes staff leave per resident with their amendments."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility, Unit
from core.audit import track
from residents.models import Resident, ShiftName


class ReportState(models.TextChoices):
    OPEN = "open", "Open"  # the shift runs, or ended without a submission
    SUBMITTED = "submitted", "Submitted"  # frozen, waiting for the incoming staff member
    ACKNOWLEDGED = "acknowledged", "Acknowledged"


REPORT_OPEN_STATES = (ReportState.OPEN, ReportState.SUBMITTED)
REPORT_KEY_COLUMNS = ["facility", "unit", "shift_day", "shift_name", "starts_at", "ends_at"]
SUBMISSION_COLUMNS = ["submitted_by", "submitted_at", "snapshot"]
ACKNOWLEDGEMENT_COLUMNS = ["acknowledged_by", "acknowledged_at"]


def _changed(columns: list[str]) -> pgtrigger.Q:
    condition = pgtrigger.Q()
    for column in columns:
        name = f"{column}_id" if column.endswith("_by") else column
        condition |= pgtrigger.Q(**{f"old__{name}__df": pgtrigger.F(f"new__{name}")})
    return condition


# The snapshot is written once and never changes (trigger): the audit keeps the rest.
@track(exclude=["snapshot"])
class ShiftReport(models.Model):
    """The report of one unit for one shift. Its row is made ahead by the beat (or at the
    submission); its lines are read live from the record until it is submitted, then shown from
    `snapshot`, which the database never lets change; acknowledged once, by the incoming staff
    member's sign-off."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="shift_reports")
    shift_day = models.DateField(help_text="The local day the shift starts on.")
    shift_name = models.CharField(max_length=10, choices=ShiftName.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=14, choices=ReportState.choices, default=ReportState.OPEN)
    # Not acknowledged by then (30 minutes into the next shift): the nurse is alerted, once.
    acknowledge_by = models.DateTimeField()
    alerted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # What the outgoing staff member saw and submitted: sections, lines with their links, notes.
    snapshot = models.JSONField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at", "unit__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "shift_day", "shift_name"], name="shift_report_one_per_shift"
            ),
            models.CheckConstraint(
                condition=models.Q(state="open", submitted_at__isnull=True)
                | models.Q(
                    state="submitted",
                    submitted_at__isnull=False,
                    snapshot__isnull=False,
                    acknowledged_at__isnull=True,
                )
                | models.Q(
                    state="acknowledged",
                    submitted_at__isnull=False,
                    snapshot__isnull=False,
                    acknowledged_at__isnull=False,
                ),
                name="shift_report_state_consistent",
            ),
        ]
        indexes = [
            # The sweep: the reports still open or waiting, not alerted yet, by their deadline.
            models.Index(
                fields=["acknowledge_by"],
                name="shift_report_unacked_idx",
                condition=models.Q(state__in=["open", "submitted"], alerted_at__isnull=True),
            ),
            models.Index(fields=["facility", "starts_at"], name="shift_report_facility_idx"),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="shift_report_key_read_only", fields=REPORT_KEY_COLUMNS),
            pgtrigger.Protect(
                name="shift_report_submission_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__submitted_at__isnull=False)
                & _changed(SUBMISSION_COLUMNS),
            ),
            pgtrigger.Protect(
                name="shift_report_acknowledgement_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__acknowledged_at__isnull=False)
                & _changed(ACKNOWLEDGEMENT_COLUMNS),
            ),
            pgtrigger.Protect(name="shift_report_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.get_shift_name_display().lower()} shift {self.shift_day}"


class NoteCategory(models.TextChoices):
    MEDICATION = "medication", "Medication"
    CONDITION = "condition", "Condition"
    CARE = "care", "Care"
    BEHAVIOUR = "behaviour", "Behaviour"
    FAMILY = "family", "Family and visitors"
    APPOINTMENT = "appointment", "Appointment"
    OTHER = "other", "Other"


NOTE_FACT_COLUMNS = [
    "facility",
    "unit",
    "resident",
    "category",
    "text",
    "written_by",
    "written_at",
    "idempotency_key",
]


@track()
class HandoffNote(models.Model):
    """What a staff member wants the next shift to know about a resident. Written once (a
    correction is a HandoffNoteAmendment); handed on with each shift's report until a report
    that carried it is acknowledged."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    # The resident's unit when it was written: the unit whose report carries it.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="handoff_notes")
    category = models.CharField(max_length=16, choices=NoteCategory.choices)
    text = models.CharField("Note", max_length=1000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField()
    # The one-time key of the form that wrote it: a double click writes one note.
    idempotency_key = models.UUIDField(unique=True)
    # Set once, when a report that carried the note is acknowledged.
    acknowledged_in = models.ForeignKey(
        ShiftReport, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["written_at", "pk"]
        indexes = [
            models.Index(
                fields=["unit", "written_at"],
                name="handoff_note_open_idx",
                condition=models.Q(acknowledged_in__isnull=True),
            ),
            models.Index(fields=["resident", "written_at"], name="handoff_note_resident_idx"),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="handoff_note_facts_read_only", fields=NOTE_FACT_COLUMNS),
            pgtrigger.Protect(
                name="handoff_note_acknowledged_once",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__acknowledged_in_id__isnull=False)
                & pgtrigger.Q(old__acknowledged_in_id__df=pgtrigger.F("new__acknowledged_in_id")),
            ),
            pgtrigger.Protect(name="handoff_note_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.resident}: {self.get_category_display()}"


class AmendmentKind(models.TextChoices):
    CORRECTION = "correction", "Correction"
    ENTERED_IN_ERROR = "error", "Entered in error"


@track()
class HandoffNoteAmendment(models.Model):
    """A correction of a note (what it reads now) or "entered in error" (it leaves the reports
    not yet submitted); the original stays visible. Append-only (database trigger)."""

    note = models.ForeignKey(HandoffNote, on_delete=models.PROTECT, related_name="amendments")
    kind = models.CharField(max_length=12, choices=AmendmentKind.choices)
    text = models.CharField("Corrected note", max_length=1000, blank=True)
    reason = models.CharField(max_length=300)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["amended_at", "pk"]
        triggers = [
            pgtrigger.Protect(
                name="handoff_amendment_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.note}: {self.get_kind_display()}"
