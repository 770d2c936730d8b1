"""The controlled-drug log: per controlled stock item, the ledger of a period with its opening
balance and the shift counts with both signatures."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.db.models import QuerySet

from accounts.models import Facility, User
from inventory.models import ControlledCount, ControlledCountLine, StockItem, StockMovement

from .common import local_bounds, resident_filter

CONTROLLED_SCHEDULES = ("II", "III", "IV", "V")


@dataclass
class CountEntry:
    at: datetime.datetime  # facility-local
    unit: str
    expected: Decimal
    counted: Decimal
    outgoing_by: User
    incoming_by: User
    discrepancy: bool


@dataclass
class ControlledItemLog:
    item: StockItem
    opening: Decimal  # balance before the period
    movements: list[StockMovement]
    counts: list[CountEntry]

    @property
    def closing(self) -> Decimal:
        return self.movements[-1].balance_after if self.movements else self.opening

    @property
    def opening_text(self) -> str:
        return self.item.quantity_text(self.opening)

    @property
    def closing_text(self) -> str:
        return self.item.quantity_text(self.closing)


@dataclass
class ControlledLogReport:
    facility: Facility
    start: datetime.date
    end: datetime.date
    items: QuerySet  # the controlled stock items, in the report's order: a page is a slice

    @cached_property
    def logs(self) -> list[ControlledItemLog]:
        """Every item's log (the CSV)."""
        return self.logs_for(list(self.items))

    def logs_for(self, items: list[StockItem]) -> list[ControlledItemLog]:
        """The logs of these items (a page), in their order (3 queries)."""
        return _logs(self, items)


def controlled_log_report(
    *,
    facility: Facility,
    start: datetime.date,
    end: datetime.date,
    unit_id: int | None = None,
    resident_id: int | None = None,
    item_id: int | None = None,
) -> ControlledLogReport:
    """Per controlled stock item: the opening balance, the ledger lines of the period (as
    `inventory.selectors.item_ledger` reads them, for every item at once) and the shift counts
    with both signatures. The items are a queryset to page; `logs_for` reads a page of them."""
    items = StockItem.objects.filter(
        resident_filter(unit_id, resident_id),
        facility=facility,
        medication__controlled_schedule__in=CONTROLLED_SCHEDULES,
    )
    if item_id:
        items = items.filter(pk=item_id)
    items = items.select_related("medication", "resident__unit").order_by(
        "medication__name", "resident__last_name", "pk"
    )
    return ControlledLogReport(facility, start, end, items)


def _logs(report: ControlledLogReport, items: list[StockItem]) -> list[ControlledItemLog]:
    tz = report.facility.tz
    since, until = local_bounds(report.facility, report.start, report.end)
    ids = [item.pk for item in items] or [0]
    opening = dict(
        StockMovement.objects.filter(item_id__in=ids, at__lt=since)
        .order_by("item_id", "-at", "-pk")
        .distinct("item_id")
        .values_list("item_id", "balance_after")
    )
    movements = defaultdict(list)
    for movement in (
        StockMovement.objects.filter(item_id__in=ids, at__gte=since, at__lt=until)
        .select_related("by", "witness")
        .order_by("at", "pk")
    ):
        movement.local_at = movement.at.astimezone(tz)
        movements[movement.item_id].append(movement)
    counts = defaultdict(list)
    for line in (
        ControlledCountLine.objects.filter(
            item_id__in=ids, count__counted_at__gte=since, count__counted_at__lt=until
        )
        .select_related("count__outgoing_by", "count__incoming_by", "count__unit")
        .order_by("count__counted_at", "pk")
    ):
        count: ControlledCount = line.count
        counts[line.item_id].append(
            CountEntry(
                at=count.counted_at.astimezone(tz),
                unit=count.unit.name,
                expected=line.expected,
                counted=line.counted,
                outgoing_by=count.outgoing_by,
                incoming_by=count.incoming_by,
                discrepancy=line.counted != line.expected,
            )
        )
    return [
        ControlledItemLog(
            item=item,
            opening=opening.get(item.pk, Decimal(0)),
            movements=movements.get(item.pk, []),
            counts=counts.get(item.pk, []),
        )
        for item in items
    ]
