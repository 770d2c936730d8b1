import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from accounts.models import Facility
from care.models import MonitoringEpisode
from core.audit import track
from residents.models import Resident

from .rules import (
    ConditionChange,
    NotificationMethod,
    NotificationResponse,
    NotifiedParty,
    changes_labels,
    changes_words,
)


@track()
class ConditionReport(models.Model):
    """A change of condition reported by the staff member who noticed it. The report itself
    never changes; the nurse's acknowledgement is on its alert (mar's inbox)."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="condition_reports"
    )
    changes = ArrayField(models.CharField(max_length=20, choices=ConditionChange.choices))
    note = models.CharField(max_length=1000, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()
    # When the escalation sweep made its alert urgent (nobody had acknowledged it in time).
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-pk"]
        indexes = [
            models.Index(fields=["resident", "-reported_at"], name="condition_resident_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.resident}: {self.changes_words}"

    @property
    def changes_words(self) -> str:
        return changes_words(self.changes)

    def get_changes_display(self) -> list[str]:
        return changes_labels(self.changes)


@track()
class ConditionEvaluation(models.Model):
    """The nurse's evaluation of a reported change, in SBAR form. Written once; closed when
    the physician and the representative have been notified (or declined with a reason)."""

    report = models.OneToOneField(
        ConditionReport, on_delete=models.PROTECT, related_name="evaluation"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="condition_evaluations"
    )
    situation = models.CharField(max_length=2000)
    background = models.CharField(max_length=4000)
    assessment = models.CharField(max_length=2000)
    recommendation = models.CharField(max_length=2000)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    evaluated_at = models.DateTimeField()
    readings = models.ManyToManyField("vitals.VitalReading", related_name="+", blank=True)
    monitoring = models.ForeignKey(
        MonitoringEpisode, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["-evaluated_at", "-pk"]

    def __str__(self) -> str:
        return f"Evaluation of {self.report}"


@track()
class ConditionNotification(models.Model):
    """The physician or the representative told of a change of condition (method, who was
    reached, when, their response), or explicitly not told, with the reason. Append-only."""

    evaluation = models.ForeignKey(
        ConditionEvaluation, on_delete=models.PROTECT, related_name="notifications"
    )
    party = models.CharField(max_length=16, choices=NotifiedParty.choices)
    declined_reason = models.CharField(max_length=300, blank=True)  # set: not notified
    method = models.CharField(max_length=12, choices=NotificationMethod.choices, blank=True)
    person_reached = models.CharField(max_length=120, blank=True)
    reached_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(max_length=16, choices=NotificationResponse.choices, blank=True)
    response_note = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["evaluation", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(declined_reason="")
                | (models.Q(reached_at__isnull=False) & ~models.Q(method="")),
                name="notification_reached_or_declined",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="notification_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} notified of {self.evaluation.report}"

    @property
    def declined(self) -> bool:
        return bool(self.declined_reason)
