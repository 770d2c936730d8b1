"""Reads about stock shared by the pages, the supply alerts and the reports."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Max, Q, QuerySet, Sum

from accounts.models import Facility, Unit
from meds.models import Medication, OrderStatus, Prescription, Recurrence
from residents.models import Resident
from residents.selectors import resident_name_matches

from .models import ControlledCount, MovementKind, StockItem, StockMovement

PRN_LOOKBACK_DAYS = 14
COUNT_DUE_AFTER = datetime.timedelta(hours=12)


def _doses_per_day(order: Prescription) -> Decimal:
    times = Decimal(len(order.times))
    if order.recurrence == Recurrence.WEEKDAYS:
        return times * len(order.weekdays) / 7
    if order.recurrence == Recurrence.EVERY_N_DAYS:
        return times / max(order.every_n_days, 1)
    if order.recurrence == Recurrence.MONTH_DAYS:
        return times * len(order.month_days) * 12 / 365
    return times


@dataclass
class Supply:
    item: StockItem
    daily_use: Decimal
    days_left: Decimal | None  # None: no known use
    # Set by the pharmacy interface (signals.reorder_list_shown): the refill asked for, if any.
    refill: object | None = None
    can_request_refill: bool = False

    @property
    def is_low(self) -> bool:
        return self.days_left is not None and self.days_left <= self.item.reorder_days


def stock_search(
    *, facility: Facility, query: str = "", only_controlled: bool = False
) -> QuerySet[StockItem]:
    """The facility's stock items by resident (house stock last) and medication; `query`
    matches the resident's names or the medication's name."""
    items = StockItem.objects.filter(facility=facility).select_related(
        "medication", "resident__unit"
    )
    if only_controlled:
        items = items.exclude(medication__controlled_schedule="")
    for word in query.split():
        items = items.filter(
            resident_name_matches(word, "resident__") | Q(medication__name__icontains=word)
        )
    return items.order_by(
        F("resident__last_name").asc(nulls_last=True),
        "resident__first_name",
        "resident_id",
        "medication__name",
        "medication__strength",
        "pk",
    )


def supply_list(
    *,
    facility: Facility,
    now: datetime.datetime,
    items: QuerySet[StockItem] | list[StockItem] | None = None,
) -> list[Supply]:
    """Days of supply for the facility's items (in their order): on hand / scheduled daily use
    (PRN: its use over the last 14 days). A fixed number of queries, whatever the number of
    items; a list (a page of `stock_search`) is used as it is."""
    if items is None:
        items = StockItem.objects.filter(facility=facility)
    if isinstance(items, QuerySet):
        items = list(items.select_related("medication", "resident__unit"))
    items = list(items)
    own = {(i.resident_id, i.medication_id) for i in items if i.resident_id}
    scheduled: dict[tuple, Decimal] = defaultdict(Decimal)
    for order in Prescription.objects.filter(
        facility=facility, status=OrderStatus.ACTIVE, is_prn=False
    ).only(
        "resident_id",
        "medication_id",
        "times",
        "recurrence",
        "weekdays",
        "every_n_days",
        "month_days",
        "dose_amount",
    ):
        use = _doses_per_day(order) * order.dose_amount
        key = (order.resident_id, order.medication_id)
        # A resident without their own supply draws on house stock.
        scheduled[key if key in own else (None, order.medication_id)] += use
    since = now - datetime.timedelta(days=PRN_LOOKBACK_DAYS)
    recent = dict(
        StockMovement.objects.filter(
            item__in=[i.pk for i in items], kind=MovementKind.ADMINISTERED, at__gte=since
        )
        .values_list("item_id")
        .annotate(total=Sum("quantity"))
    )
    rows = []
    for item in items:
        daily = scheduled.get((item.resident_id, item.medication_id), Decimal(0))
        if not daily and item.pk in recent:
            daily = -recent[item.pk] / PRN_LOOKBACK_DAYS
        days = (item.on_hand / daily).quantize(Decimal("0.1")) if daily else None
        rows.append(Supply(item, daily, days))
    return rows


def reorder_list(*, facility: Facility, now: datetime.datetime) -> list[Supply]:
    """Items that will run out within their reorder days (ordered ones included, marked)."""
    rows = [s for s in supply_list(facility=facility, now=now) if s.is_low]
    return sorted(rows, key=lambda s: (s.item.ordered_at is not None, s.days_left))


def item_ledger(*, item: StockItem) -> QuerySet[StockMovement]:
    return item.movements.select_related("by", "witness").order_by("at", "pk")


def movements_since_last_matching_count(*, item: StockItem) -> QuerySet[StockMovement]:
    """What moved since the item last counted right: who gave, wasted or received what, when."""
    last_match = ControlledCount.objects.filter(lines__item=item, has_discrepancy=False).aggregate(
        at=Max("counted_at")
    )["at"]
    movements = item.movements.select_related("by", "witness").order_by("at", "pk")
    if last_match is not None:
        movements = movements.filter(at__gt=last_match)
    return movements


@dataclass
class UnitCountState:
    unit: Unit
    items: int
    last_count: ControlledCount | None
    overdue: bool


def count_overview(*, facility: Facility, now: datetime.datetime) -> list[UnitCountState]:
    """Per unit: how many controlled items, the last count, and whether one is overdue (none in
    the last 12 hours)."""
    units = list(Unit.objects.filter(facility=facility).order_by("name"))
    item_counts = dict(
        StockItem.objects.filter(
            facility=facility, medication__controlled_schedule__in=["II", "III", "IV", "V"]
        )
        .values_list("resident__unit_id")
        .annotate(n=Sum(1))
    )
    last = {}
    for count in (
        ControlledCount.objects.filter(facility=facility)
        .select_related("outgoing_by", "incoming_by")
        .order_by("unit_id", "-counted_at")
        .distinct("unit_id")
    ):
        last[count.unit_id] = count
    states = []
    for unit in units:
        n = item_counts.get(unit.pk, 0)
        previous = last.get(unit.pk)
        overdue = bool(n) and (previous is None or previous.counted_at < now - COUNT_DUE_AFTER)
        states.append(UnitCountState(unit, n, previous, overdue))
    return states


def stock_items_for(
    *, resident: Resident, medication_ids: Iterable[int] | None = None
) -> dict[int, StockItem]:
    """The supply each medication is taken from, by medication id: the resident's own, else the
    facility's house stock (one query). The med pass offers "Given" by it; giving consumes it."""
    items = StockItem.objects.filter(
        Q(resident=resident) | Q(resident__isnull=True), facility_id=resident.facility_id
    )
    if medication_ids is not None:
        items = items.filter(medication_id__in=list(medication_ids))
    stock: dict[int, StockItem] = {}
    for item in items.order_by("resident_id"):  # the resident's own first (NULLs sort last)
        stock.setdefault(item.medication_id, item)
    return stock


# What stock_items_for chooses, as a statement of its own for pages that read a resident's med
# pass in one statement (mar.selectors): of the resident's facility, the resident's own item
# first, else the house stock, for each of the medications the inner SELECT names.
STOCK_ITEMS_FOR_SQL = """
    SELECT DISTINCT ON (s.medication_id) s.*
    FROM inventory_stockitem AS s
    WHERE s.facility_id = %(facility)s AND (s.resident_id = %(resident)s OR s.resident_id IS NULL)
      AND s.medication_id IN ({medications})
    ORDER BY s.medication_id, s.resident_id NULLS LAST, s.id
"""


def stock_item_for(*, resident: Resident, medication: Medication) -> StockItem | None:
    """The supply a dose of `medication` for `resident` is taken from, or None (not tracked)."""
    return stock_items_for(resident=resident, medication_ids=[medication.pk]).get(medication.pk)
