"""An incident, its amendments and its follow-ups."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility, Unit
from care.models import MonitoringEpisode
from core.audit import track
from mar.models import Administration, ScheduledDose
from meds.models import Prescription
from residents.models import Resident

from .rules import (
    FACTS,
    NOTIFICATIONS,
    BodySite,
    ErrorKind,
    FallLocation,
    FollowUpKind,
    FollowUpState,
    IncidentKind,
    IncidentState,
    NotifyMethod,
    Toward,
    injuries_labels,
)

# What was reported: written once, never updated (database trigger). A correction is an
# IncidentAmendment; the page shows the incident as amended.
FACT_COLUMNS = [
    "facility",
    "unit",
    "resident",
    "kind",
    "occurred_at",
    "reported_by",
    "reported_at",
    "discovered_by",
    "description",
    "witnessed",
    "location",
    "injuries",
    "pain_score",
    "head_strike",
    "anticoagulant",
    "anticoagulant_drugs",
    "hospital_transfer",
    "body_site",
    "size_cm",
    "found_location",
    "found_at",
    "toward",
    "administration",
    "dose",
    "prescription",
    "error_kind",
    "harm_reached",
    "monitoring_episode",
]


@track()
class Incident(models.Model):
    """Something that happened to a resident, as reported. Only its state (closed, by whom,
    the note) is ever written after the report."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    # The resident's unit when it happened (a later move does not move the incident).
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField("Type", max_length=20, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField("When it happened")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()
    discovered_by = models.CharField("Found or seen by", max_length=120, blank=True)
    description = models.CharField("What happened", max_length=2000)
    # A fall.
    witnessed = models.BooleanField(null=True, blank=True)
    location = models.CharField("Where", max_length=16, choices=FallLocation.choices, blank=True)
    injuries = models.JSONField(default=dict, blank=True)  # body site -> injury
    pain_score = models.PositiveSmallIntegerField(null=True, blank=True)
    head_strike = models.BooleanField("Hit their head", null=True, blank=True)
    # Read from the resident's active orders when the fall is reported (rules.is_anticoagulant).
    anticoagulant = models.BooleanField("Anticoagulant on the MAR", null=True, blank=True)
    anticoagulant_drugs = models.CharField(max_length=300, blank=True)
    hospital_transfer = models.BooleanField("Sent to hospital", null=True, blank=True)
    # A skin tear or injury.
    body_site = models.CharField(max_length=16, choices=BodySite.choices, blank=True)
    size_cm = models.DecimalField(
        "Size (cm)", max_digits=3, decimal_places=1, null=True, blank=True
    )
    # An elopement.
    found_location = models.CharField("Found where", max_length=200, blank=True)
    found_at = models.DateTimeField("Found when", null=True, blank=True)
    # A behaviour.
    toward = models.CharField("Toward whom", max_length=16, choices=Toward.choices, blank=True)
    # A medication error: the record or the dose it was raised from, and the order.
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose = models.ForeignKey(
        ScheduledDose, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    error_kind = models.CharField(
        "What went wrong", max_length=16, choices=ErrorKind.choices, blank=True
    )
    harm_reached = models.BooleanField("Reached the resident", null=True, blank=True)

    # The monitoring a fall started (care's episode, begun in the report's transaction).
    monitoring_episode = models.ForeignKey(
        MonitoringEpisode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    state = models.CharField(max_length=8, choices=IncidentState.choices, default="open")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_note = models.CharField(max_length=500, blank=True)

    # The audit trail names the injuries' body sites in words.
    audit_json_keys = {"injuries": BodySite}

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["facility", "-occurred_at"], name="incident_facility_idx"),
            models.Index(fields=["resident", "-occurred_at"], name="incident_resident_idx"),
            models.Index(fields=["administration"], name="incident_administration_idx"),
            models.Index(fields=["dose"], name="incident_dose_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pain_score__isnull=True) | models.Q(pain_score__lte=10),
                name="incident_pain_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(state="open", closed_at__isnull=True)
                | models.Q(state="closed", closed_at__isnull=False, closed_by__isnull=False),
                name="incident_closed_by_whom",
            ),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="incident_facts_read_only", fields=FACT_COLUMNS),
            pgtrigger.Protect(name="incident_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.resident}"

    @property
    def injuries_labels(self) -> list[str]:
        return injuries_labels(self.injuries or {})


@track()
class IncidentAmendment(models.Model):
    """A correction of one reported fact: the original stays, this row says what it reads
    now, who changed it, when and why. Append-only (database trigger)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="amendments")
    field = models.CharField(
        "Fact", max_length=20, choices=[(name, fact.label) for name, fact in FACTS.items()]
    )
    # The values as JSON (text, true/false, a number, an ISO instant).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["amended_at", "pk"]
        triggers = [
            pgtrigger.Protect(
                name="incident_amendment_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident}: {self.field}"


@track()
class IncidentFollowUp(models.Model):
    """One task the incident's type opened, done or (a notification) declined by a nurse."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="followups")
    kind = models.CharField(max_length=24, choices=FollowUpKind.choices)
    state = models.CharField(max_length=8, choices=FollowUpState.choices, default="open")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # A notification: how, whom, when, and what they said.
    method = models.CharField(max_length=10, choices=NotifyMethod.choices, blank=True)
    reached = models.CharField("Who was reached", max_length=120, blank=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(max_length=300, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["incident", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "kind"], name="followup_unique_kind"),
            models.CheckConstraint(
                condition=models.Q(state="open")
                | models.Q(completed_by__isnull=False, completed_at__isnull=False),
                name="followup_completed_by_whom",
            ),
        ]
        indexes = [
            models.Index(
                fields=["incident"], name="followup_open_idx", condition=models.Q(state="open")
            ),
        ]
        triggers = [
            pgtrigger.ReadOnly(name="followup_kind_read_only", fields=["incident", "kind"]),
            pgtrigger.Protect(name="followup_never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_notification(self) -> bool:
        return self.kind in NOTIFICATIONS
