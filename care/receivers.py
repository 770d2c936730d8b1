"""Receivers that keep care's rows in step with the lower apps (inside the sender's
transaction)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Facility
from residents.models import ResidentStatus
from residents.signals import resident_status_changed

from .catalog import care_levels_create
from .services.task_engine import care_tasks_cancel_open, care_tasks_generate_later


@receiver(resident_status_changed, dispatch_uid="care.cancel_tasks_of_resident")
def _on_resident_status_changed(*, resident, to_status, effective_at, **kwargs) -> None:
    """An absence or a discharge cancels the resident's tasks of shifts not over when it
    began; a return makes them again from the next beat (or at once, queued)."""
    if to_status == ResidentStatus.ACTIVE:
        care_tasks_generate_later(resident.facility_id)
        return
    care_tasks_cancel_open(
        resident_id=resident.pk, closing_after=effective_at, reason=str(to_status)
    )


@receiver(post_save, sender=Facility, dispatch_uid="care.default_care_levels")
def _default_care_levels(sender, instance: Facility, created: bool, **kwargs) -> None:
    """A new facility starts with the usual care level table; its administrator edits it."""
    if created:
        care_levels_create(instance)
