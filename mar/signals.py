"""Receivers that keep mar's rows in step with the lower apps."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Facility

from .models import DEFAULT_OTHER_CODES, OtherCode


@receiver(post_save, sender=Facility, dispatch_uid="mar.default_other_codes")
def _default_other_codes(sender, instance: Facility, created: bool, **kwargs) -> None:
    """A new facility starts with the usual "other" codes; administrators extend the list."""
    if created:
        OtherCode.objects.bulk_create(
            [
                OtherCode(facility=instance, code=code, label=label)
                for code, label in DEFAULT_OTHER_CODES
            ],
            ignore_conflicts=True,
        )
