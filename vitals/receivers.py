"""Receivers that keep vitals' rows in step with the lower apps."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Facility

from .services import vital_ranges_create


@receiver(post_save, sender=Facility, dispatch_uid="vitals.default_ranges")
def _default_ranges(sender, instance: Facility, created: bool, **kwargs) -> None:
    """A new facility starts with the usual normal ranges; its administrator edits them."""
    if created:
        vital_ranges_create(instance)
