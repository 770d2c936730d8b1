"""Stock per resident and medication, its movement ledger, and controlled-drug counts."""

import pgtrigger
from django.conf import settings
from django.db import models

from accounts.models import Facility, Unit
from core.audit import track
from core.time import current_stamp
from core.words import count_of
from meds.models import Medication
from residents.models import Resident


class CountUnit(models.TextChoices):
    TABLET = "tablet", "tablet"
    CAPSULE = "capsule", "capsule"
    ML = "mL", "mL"
    PATCH = "patch", "patch"
    DOSE = "dose", "dose"
    GRAM = "g", "g"
    DROP = "drop", "drop"


@track()
class StockItem(models.Model):
    """A supply of one medication: the resident's own from the pharmacy, or house stock (no
    resident) for common over-the-counter medications. `on_hand` always equals the ledger."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="stock_items")
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_items"
    )
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="stock_items")
    unit_of_count = models.CharField(max_length=10, choices=CountUnit.choices, default="tablet")
    on_hand = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    reorder_days = models.PositiveSmallIntegerField()
    ordered_at = models.DateTimeField(null=True, blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["medication__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "resident", "medication"],
                name="stock_item_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_never_negative"),
        ]

    def __str__(self) -> str:
        owner = self.resident.display_name if self.resident_id else "house stock"
        return f"{self.medication} — {owner}"

    def quantity_text(self, quantity) -> str:
        """ "30 tablets", "2.5 mL": a quantity of this item in words."""
        return count_of(quantity, self.unit_of_count)

    @property
    def on_hand_text(self) -> str:
        return self.quantity_text(self.on_hand)

    @property
    def is_controlled(self) -> bool:
        return self.medication.is_controlled


class MovementKind(models.TextChoices):
    RECEIVED = "received", "Received"
    ADMINISTERED = "administered", "Administered"
    WASTED = "wasted", "Wasted"
    DESTROYED = "destroyed", "Destroyed"
    RETURNED = "returned", "Returned to pharmacy"
    COUNT_ADJUSTMENT = "count_adjustment", "Count adjustment"
    AMENDMENT_REVERSAL = "amendment_reversal", "Amendment reversal"


@track()
class StockMovement(models.Model):
    """One line of the ledger: a signed quantity and the balance after it. Append-only."""

    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    balance_after = models.DecimalField(max_digits=10, decimal_places=2)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lot = models.CharField(max_length=40, blank=True)
    expiry = models.DateField(null=True, blank=True)
    rx_number = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # The administration record (mar) this movement follows, by id: inventory sits below mar.
    administration_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="movement_balance_never_negative"
            ),
            models.CheckConstraint(condition=~models.Q(quantity=0), name="movement_not_zero"),
        ]
        indexes = [models.Index(fields=["item", "at"], name="movement_item_time_idx")]
        triggers = [
            pgtrigger.Protect(
                name="movement_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        quantity, balance = self.quantity.normalize(), self.balance_after.normalize()
        return f"{self.get_kind_display()} {quantity:f}, balance {balance:f}"


@track()
class ControlledCount(models.Model):
    """A shift count of a unit's controlled drugs, signed by the outgoing and incoming staff."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="controlled_counts")
    outgoing_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    incoming_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField()
    has_discrepancy = models.BooleanField(default=False)

    class Meta:
        ordering = ["-counted_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outgoing_by=models.F("incoming_by")),
                name="count_two_different_people",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="count_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Shift count, {self.unit}, {current_stamp(self.counted_at)}"


@track()
class ControlledCountLine(models.Model):
    count = models.ForeignKey(ControlledCount, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="count_lines")
    expected = models.DecimalField(max_digits=10, decimal_places=2)
    counted = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["item__medication__name"]
        constraints = [
            models.UniqueConstraint(fields=["count", "item"], name="count_line_unique"),
            models.CheckConstraint(
                condition=models.Q(counted__gte=0), name="count_line_not_negative"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="count_line_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: expected {self.expected}, counted {self.counted}"

    @property
    def difference(self):
        return self.counted - self.expected
