from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from accounts.models import Facility
from core.audit import track
from residents.models import Resident

from .rules import ConditionChange, changes_labels, changes_words


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
