"""Receivers that keep mar's rows in step with the lower apps."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Facility
from inventory.selectors import movements_since_last_matching_count
from inventory.signals import controlled_count_discrepancy

from .models import DEFAULT_OTHER_CODES, Alert, AlertKind, AlertSeverity, OtherCode


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


@receiver(controlled_count_discrepancy, dispatch_uid="mar.count_discrepancy_alert")
def _count_discrepancy_alert(sender, count, discrepancies, **kwargs) -> None:
    """A count that differs from the ledger: one urgent alert with the movements since the last
    count that matched, so a nurse can see who gave, wasted or received what, when."""
    tz = count.facility.tz
    parts = []
    for line in discrepancies:
        moved = movements_since_last_matching_count(item=line.item)
        history = "; ".join(
            f"{m.at.astimezone(tz):%m-%d %H:%M} {m.get_kind_display().lower()} "
            f"{m.quantity.normalize():+f} by {m.by.initials}"
            for m in moved[:8]
        )
        parts.append(
            f"{line.item}: ledger {line.expected.normalize():f}, counted "
            f"{line.counted.normalize():f}"
            + (f" [since last good count: {history}]" if history else "")
        )
    Alert.objects.create(
        facility=count.facility,
        kind=AlertKind.COUNT_DISCREPANCY,
        subject=f"count:{count.pk}",
        severity=AlertSeverity.URGENT,
        message=(f"Count discrepancy in {count.unit}: " + " | ".join(parts))[:2000],
        created_at=count.counted_at,
    )
