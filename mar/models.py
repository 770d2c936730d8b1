"""What the schedule asks for (ScheduledDose) and what needs a person's attention (Alert)."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility
from core.audit import track
from core.time import current_stamp
from meds.models import Prescription
from residents.models import Resident
from vitals.models import VitalSign


class DoseState(models.TextChoices):
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    MISSED = "missed", "Missed"
    DOCUMENTED = "documented", "Documented"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (DoseState.DUE, DoseState.OVERDUE)

# The foreign key of a dose to its order (see ScheduledDose), created by SQL in a migration:
# Django has no composite foreign key.
DOSE_ORDER_KEY = "dose_order_resident_facility_fk"


@track(inserts=False, per_statement=True)
class ScheduledDose(models.Model):
    """One dose the schedule asks for. Rows are made ahead by the beat and move by state."""

    # The three references are checked by ONE foreign key, (prescription, resident, facility)
    # -> the order's (id, resident, facility) (DOSE_ORDER_KEY, made by migration 0012): a dose
    # belongs to its order's resident and facility, and an engine run of tens of thousands of
    # rows pays one check per row, not three. Each column is the first of a composite index
    # below, so none has an index of its own.
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    prescription = models.ForeignKey(
        Prescription,
        on_delete=models.PROTECT,
        related_name="doses",
        db_constraint=False,
        db_index=False,
    )
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="doses",
        db_constraint=False,
        db_index=False,
    )
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
            # The overdue sweep reads only open rows, a facility's due (or overdue) ones whose
            # window has closed: exactly the rows it moves, at any table size.
            models.Index(
                fields=["facility", "state", "window_closes_at"],
                name="dose_open_sweep_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
            models.Index(fields=["facility", "due_at"], name="dose_facility_due_idx"),
            models.Index(fields=["resident", "due_at"], name="dose_resident_due_idx"),
            # The med pass board (a facility's open doses whose window opens by now + 2 h) and
            # the resident's page: the open rows only, by when their window opens.
            models.Index(
                fields=["facility", "window_opens_at"],
                name="dose_open_facility_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
            models.Index(
                fields=["resident", "window_opens_at"],
                name="dose_open_resident_idx",
                condition=models.Q(state__in=["due", "overdue"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prescription} due {current_stamp(self.due_at)}"


class AlertKind(models.TextChoices):
    OVERDUE_DOSE = "overdue_dose", "Overdue dose"
    MISSED_DOSE = "missed_dose", "Missed dose"
    PRN_FOLLOWUP = "prn_followup", "PRN follow-up due"
    REFUSALS = "refusals", "Refusals to report"
    LOW_SUPPLY = "low_supply", "Low supply"
    COUNT_DISCREPANCY = "count_discrepancy", "Count discrepancy"
    CERTIFICATION = "certification", "Certification"
    MISSED_ROLLUP = "missed_rollup", "Unreviewed missed doses"
    MISSED_CARE = "missed_care", "Missed care"
    REASSESSMENT_DUE = "reassessment_due", "Reassessment due"
    REASSESS_SUGGESTED = "reassess_suggested", "Consider reassessment"
    CHANGE_OF_CONDITION = "condition_change", "Change of condition"
    VITAL_EXCEPTION = "vital_exception", "Vital sign out of range"
    WEIGHT_LOSS = "weight_loss", "Re-weigh and review"
    MISSED_MONITORING = "missed_monitoring", "Missed monitoring"
    INCIDENT = "incident", "Incident"
    INCIDENT_FOLLOWUP = "incident_followup", "Incident follow-up due"
    APPOINTMENT_OUTCOME = "appointment_outcome", "Appointment outcome not recorded"
    HANDOFF_UNACKNOWLEDGED = "handoff_unacked", "Shift report not acknowledged"


class AlertSeverity(models.IntegerChoices):
    INFO = 1, "Info"
    WARNING = 2, "Warning"
    URGENT = 3, "Urgent"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


# The alerts about a dose: one row whose kind follows the dose (overdue -> missed).
DOSE_ALERT_KINDS = (AlertKind.OVERDUE_DOSE, AlertKind.MISSED_DOSE)


# What an alert is about: with its kind, the one key by which it is raised, resolved, cancelled
# and reopened (unique in the database). Built only here.
DOSE_SUBJECT_PREFIX = "dose:"  # the sweep builds the same subjects in SQL


def dose_subject(dose_id: int) -> str:
    return f"{DOSE_SUBJECT_PREFIX}{dose_id}"


def prn_subject(administration_id: int) -> str:
    """A PRN dose whose effectiveness follow-up is due."""
    return f"prn:{administration_id}"


def refusal_subject(order_id: int, completing_refusal_id: int) -> str:
    """A refusal pattern, by the refusal that completed it (one alert per pattern)."""
    return f"refusals:{order_id}:{completing_refusal_id}"


def refusal_subject_record(subject: str) -> int | None:
    """The completing refusal's id in a refusal pattern's subject, or None."""
    parts = subject.split(":")
    return int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None


def stock_subject(item_id: int, last_receipt_id: int) -> str:
    """A supply episode: the key changes when the item is next received."""
    return f"stock:{item_id}:{last_receipt_id}"


def count_subject(count_id: int) -> str:
    return f"count:{count_id}"


def certification_subject(user_id: int, day) -> str:
    """Once a day per person."""
    return f"aide-cert:{user_id}:{day.isoformat()}"


def missed_rollup_subject(resident_id: int, first_alert_id: int) -> str:
    """A resident's unreviewed missed doses, gathered after the facility's review period: keyed
    by the first dose alert gathered, so a new roll-up starts once the last one is worked."""
    return f"missed-review:{resident_id}:{first_alert_id}"


def care_task_subject(task_id: int) -> str:
    return f"care:{task_id}"


def monitoring_check_subject(check_id: int) -> str:
    return f"monitoring:{check_id}"


def reassessment_subject(resident_id: int, status_change_id: int) -> str:
    """A return from hospital: reassess within 48 hours."""
    return f"reassess:{resident_id}:{status_change_id}"


def reassess_suggested_subject(resident_id: int, category: str, day) -> str:
    """Performance worse than planned: at most once a day per resident and ADL category."""
    return f"reassess-care:{resident_id}:{category}:{day.isoformat()}"


def vital_exception_subject(exception_id: int) -> str:
    """A reading out of range (vitals' exception): settled when a nurse acknowledges it."""
    return f"vital:{exception_id}"


WEIGHT_SUBJECT_PREFIX = "weight:"


def weight_subject(resident_id: int, reading_id: int) -> str:
    """A resident's weight loss to review, keyed by the weight that first showed it: one open per
    resident (the receiver checks under a lock), a new one once the last is resolved."""
    return f"{WEIGHT_SUBJECT_PREFIX}{resident_id}:{reading_id}"


# The alerts about care, looked at on the resident's care page.
CARE_ALERT_KINDS = (
    AlertKind.MISSED_CARE,
    AlertKind.REASSESSMENT_DUE,
    AlertKind.REASSESS_SUGGESTED,
)
# The alerts a newly signed assessment settles.
REASSESSMENT_KINDS = (AlertKind.REASSESSMENT_DUE, AlertKind.REASSESS_SUGGESTED)


def subject_id(subject: str) -> int | None:
    """The id of the row a subject names first (the dose, the stock item, the count ...)."""
    first = subject.partition(":")[2].split(":")[0]
    return int(first) if first.isdigit() else None


# Raising an alert is derived from row state by the sweep (its time is on the row); what people
# do with it (acknowledge, resolve) is tracked.
@track(inserts=False, per_statement=True)
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
    message = models.CharField(max_length=2000)
    state = models.CharField(max_length=14, choices=AlertState.choices, default=AlertState.OPEN)
    created_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.CharField(max_length=300, blank=True)
    # A missed dose's alert gathered into its resident's "unreviewed missed doses" alert: it
    # leaves the inbox's list and is found from the roll-up, which acknowledges it with itself.
    rolled_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rolled_up"
    )
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

    @property
    def subject_url(self) -> str:
        """Where the alert's subject is looked at, when it has a page of its own."""
        from django.urls import reverse

        pk = subject_id(self.subject)
        if self.kind == AlertKind.COUNT_DISCREPANCY and pk is not None:
            return reverse("count_detail", args=[pk])
        if self.kind == AlertKind.LOW_SUPPLY and pk is not None:
            return reverse("stock_item", args=[pk])
        if self.kind == AlertKind.CHANGE_OF_CONDITION and pk is not None:
            return reverse("condition_report", args=[pk])  # clinical's page of the report
        if self.kind in (AlertKind.INCIDENT, AlertKind.INCIDENT_FOLLOWUP) and pk is not None:
            return reverse("incident_detail", args=[pk])  # incidents' page of the incident
        if self.kind == AlertKind.HANDOFF_UNACKNOWLEDGED and pk is not None:
            return reverse("shift_report_detail", args=[pk])  # handoff's page of the report
        if self.kind == AlertKind.APPOINTMENT_OUTCOME and pk is not None:
            return reverse("appointment_detail", args=[pk])  # appointments' page
        if self.kind == AlertKind.VITAL_EXCEPTION:
            return reverse("vital_exceptions")  # where the reading is acknowledged
        if self.kind == AlertKind.WEIGHT_LOSS and self.resident_id:
            return reverse("flowsheet", args=[self.resident_id]) + "?days=90"
        if self.kind in CARE_ALERT_KINDS and self.resident_id:
            return reverse("care_resident", args=[self.resident_id])
        if self.resident_id:
            return reverse("resident_pass", args=[self.resident_id])
        return ""


class AdminStatus(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    HELD = "held", "Held"
    NOT_AVAILABLE = "not_available", "Not available"
    LOA = "loa", "LOA"
    HOSPITAL = "hospital", "Hospital"
    OMITTED = "omitted", "Omitted"
    OTHER = "other", "Other"


class Entry(models.TextChoices):
    """How a record reached the server."""

    ONLINE = "online", "At the cart"
    # Recorded on a cart without a connection and sent when it came back: administered_at is the
    # device's time, recorded_at the time the server received it.
    OFFLINE = "offline", "Offline, synced later"
    # Initialled on the printed downtime MAR and typed in afterwards (a late entry).
    PAPER = "paper", "Downtime MAR, typed in"


# What a med tech may record on a dose of a present resident. LOA and hospital come from the
# resident's status (their doses are cancelled); the page never offers them.
RECORDABLE_STATUSES = tuple(
    status for status in AdminStatus if status not in (AdminStatus.LOA, AdminStatus.HOSPITAL)
)

# Codes printed in MAR cells (the legend explains them).
STATUS_CODES = {
    AdminStatus.GIVEN: "",
    AdminStatus.REFUSED: "R",
    AdminStatus.HELD: "H",
    AdminStatus.NOT_AVAILABLE: "NA",
    AdminStatus.LOA: "LOA",
    AdminStatus.HOSPITAL: "HOSP",
    AdminStatus.OMITTED: "OM",
    AdminStatus.OTHER: "O",
}

# The clinical content of an administration: written once, never updated (database trigger).
ADMINISTRATION_CLINICAL_FIELDS = [
    "dose",
    "prescription",
    "resident",
    "facility",
    "status",
    "other_code",
    "administered_at",
    "recorded_at",
    "recorded_by",
    "witness",
    "approved_by",
    "dose_given",
    "reason",
    "late_reason",
    "early_reason",
    "vitals",
    "hold_triggered",
    "notes",
    "prn_reason",
    "spacing_override_reason",
    "lot",
    "idempotency_key",
    "entry",
]


@track()
class Administration(models.Model):
    """What happened to a dose (or a PRN given). Append-only: a mistake gets an Amendment."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="administrations")
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="administrations"
    )
    # Null for a PRN dose (it is not scheduled).
    dose = models.ForeignKey(
        ScheduledDose,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="administrations",
    )
    status = models.CharField(max_length=16, choices=AdminStatus.choices)
    other_code = models.CharField(max_length=40, blank=True)
    administered_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The nurse who approved a PRN where facility policy asks for it.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose_given = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    late_reason = models.CharField(max_length=300, blank=True)
    early_reason = models.CharField(max_length=300, blank=True)
    # Readings taken with this record, e.g. {"pulse": "58", "systolic_bp": "132"}.
    vitals = models.JSONField(default=dict, blank=True)
    audit_json_keys = {"vitals": VitalSign}
    # The same readings as rows of the resident's vitals (`vitals.VitalReading`), which cannot
    # point up at this record: the link is kept here, written with the record.
    readings = models.ManyToManyField("vitals.VitalReading", related_name="+", blank=True)
    # The hold parameter that triggered, in words, when "given" was refused for it.
    hold_triggered = models.CharField(max_length=200, blank=True)
    notes = models.CharField(max_length=500, blank=True)
    prn_reason = models.CharField(max_length=300, blank=True)
    # A nurse's reason to give a dose closer to the order's previous one than its minimum spacing.
    spacing_override_reason = models.CharField(max_length=300, blank=True)
    # The package's lot, from its GS1 barcode (AI 10) scanned before giving it.
    lot = models.CharField(max_length=20, blank=True)
    # Made when the form is rendered: a resubmitted form finds its first result.
    idempotency_key = models.UUIDField(unique=True)
    # Set once, by an "entered in error" amendment; the record itself stays.
    voided = models.BooleanField(default=False)
    entry = models.CharField(
        max_length=8, choices=Entry.choices, default=Entry.ONLINE, db_default=Entry.ONLINE
    )

    class Meta:
        ordering = ["administered_at", "pk"]
        constraints = [
            # One standing record per scheduled dose.
            models.UniqueConstraint(
                fields=["dose"],
                condition=models.Q(dose__isnull=False, voided=False),
                name="administration_one_per_dose",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="given") | models.Q(hold_triggered=""),
                name="administration_not_given_when_held",
            ),
        ]
        indexes = [
            models.Index(fields=["prescription", "administered_at"], name="admin_order_time_idx"),
            models.Index(fields=["resident", "administered_at"], name="admin_resident_time_idx"),
            # The resident's page lists what was recorded in the last 12 hours.
            models.Index(fields=["resident", "recorded_at"], name="admin_resident_recorded_idx"),
            models.Index(fields=["facility", "administered_at"], name="admin_facility_time_idx"),
        ]
        triggers = [
            pgtrigger.ReadOnly(
                name="administration_clinical_read_only", fields=ADMINISTRATION_CLINICAL_FIELDS
            ),
            pgtrigger.Protect(name="administration_never_deleted", operation=pgtrigger.Delete),
            # `voided` goes one way only: an entered-in-error record never comes back silently.
            pgtrigger.Protect(
                name="administration_void_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__voided=True, new__voided=False),
            ),
            # Only an "entered in error" amendment voids a record: the amendment row is written
            # first (mar.services.recording.amendment_create), and without it the database
            # refuses, whoever asks (a raw UPDATE included).
            pgtrigger.Trigger(
                name="administration_void_needs_amendment",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__voided=False, new__voided=True),
                func="""
                    IF NOT EXISTS (
                        SELECT 1 FROM mar_amendment
                        WHERE administration_id = NEW.id AND kind = 'entered_in_error'
                    ) THEN
                        RAISE EXCEPTION
                            'administration %: only an "entered in error" amendment voids it',
                            NEW.id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.prescription.medication}, {self.get_status_display().lower()}, "
            f"{self.resident}, {current_stamp(self.administered_at)}"
        )

    @property
    def code(self) -> str:
        return STATUS_CODES[AdminStatus(self.status)]


class FollowUpResult(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    PARTLY = "partly", "Partly effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


@track()
class PrnFollowUp(models.Model):
    """The effectiveness of a PRN dose, documented after the facility's follow-up minutes."""

    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, related_name="followup"
    )
    result = models.CharField(max_length=16, choices=FollowUpResult.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        triggers = [
            pgtrigger.Protect(
                name="followup_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"PRN follow-up: {self.get_result_display().lower()}"


class AmendmentKind(models.TextChoices):
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"
    LATE_ENTRY = "late_entry", "Late entry"
    CORRECTION = "correction", "Correction"


@track()
class Amendment(models.Model):
    """A nurse's correction of an administration; the original stays beside it."""

    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="amendments"
    )
    kind = models.CharField(max_length=20, choices=AmendmentKind.choices)
    reason = models.CharField(max_length=300)
    # What the amendment says instead, e.g. {"status": "refused", "administered_at": "..."}.
    changes = models.JSONField(default=dict, blank=True)
    # The audit trail reads the keys of `changes` as the administration's fields.
    audit_json_keys = {"changes": "mar.Administration"}
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["amended_at", "pk"]
        triggers = [
            pgtrigger.Protect(
                name="amendment_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.reason})"


class ReconciliationState(models.TextChoices):
    OPEN = "open", "Waiting for a nurse"
    KEPT = "kept", "Kept"
    AMENDED = "amended", "Amended and kept"
    VOIDED = "voided", "Voided"


@track()
class ReconciliationItem(models.Model):
    """A record made offline that the server could not simply accept (someone else documented
    the dose meanwhile, the order was stopped or held, a PRN limit was crossed across devices,
    …). Never dropped: it waits here, with what the cart sent, until a nurse keeps it, amends it
    or voids it with a reason. Its one-time key is the cart's, so a replay finds it again."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="+")
    # Null for a PRN dose.
    dose = models.ForeignKey(
        ScheduledDose, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.UUIDField(unique=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The time on the device when the med tech recorded it, and when the server received it.
    device_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # When the cart's snapshot (the pages it recorded against) was taken.
    snapshot_at = models.DateTimeField(null=True, blank=True)
    # What the cart sent: status, reasons, vitals, PRN reason, notes.
    record = models.JSONField(default=dict)
    audit_json_keys = {"record": "mar.Administration"}
    # Why the server could not accept it, in words.
    conflict = models.CharField(max_length=400)
    state = models.CharField(
        max_length=8, choices=ReconciliationState.choices, default=ReconciliationState.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.CharField(max_length=300, blank=True)
    # The record written when the nurse kept or amended it.
    administration = models.OneToOneField(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["device_at", "pk"]
        indexes = [
            models.Index(
                fields=["facility", "device_at"],
                condition=models.Q(state="open"),
                name="reconciliation_open_idx",
            ),
            models.Index(fields=["made_by", "received_at"], name="reconciliation_made_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="open")
                | (models.Q(resolved_at__isnull=False) & ~models.Q(resolution_reason="")),
                name="reconciliation_resolved_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Offline record of {self.resident}: {self.conflict}"

    @property
    def recorded_words(self) -> str:
        """What the cart sent, in words: "Refused; reason: asleep"."""
        record = self.record if isinstance(self.record, dict) else {}
        status = record.get("status") or AdminStatus.GIVEN
        parts = [AdminStatus(status).label if status in AdminStatus.values else str(status)]
        for key, label in (
            ("reason", "reason"),
            ("late_reason", "late"),
            ("other_code", "code"),
            ("prn_reason", "for"),
            ("notes", "note"),
        ):
            if record.get(key):
                parts.append(f"{label}: {record[key]}")
        vitals = record.get("vitals")
        if isinstance(vitals, dict) and vitals:
            parts.append(
                "vitals: "
                + ", ".join(
                    f"{VitalSign(kind).label if kind in VitalSign.values else kind} {value}"
                    for kind, value in sorted(vitals.items())
                )
            )
        return "; ".join(parts)


@track()
class OtherCode(models.Model):
    """The facility's list of "other" codes (asleep, out of facility, vomited, …)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="other_codes")
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=80)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="other_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


DEFAULT_OTHER_CODES = [
    ("asleep", "Asleep"),
    ("out", "Out of facility"),
    ("vomited", "Vomited"),
    ("npo", "NPO (nothing by mouth)"),
    ("unable", "Unable to swallow"),
]
