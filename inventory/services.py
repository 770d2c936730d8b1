"""Every write to stock. The ledger is the truth: each movement locks its item, checks the
balance, and stores the balance after it; `on_hand` moves with it in the same transaction."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from accounts.models import Facility, Role, Unit, User
from accounts.selectors import membership_role
from accounts.services import staff_authenticate
from core.errors import DomainError
from core.validators import check_decimal, check_inputs
from meds.models import Medication, OrderStatus, Prescription
from residents.models import Resident

from .models import ControlledCount, ControlledCountLine, MovementKind, StockItem, StockMovement
from .selectors import stock_item_for
from .signals import controlled_count_discrepancy

SOON_EXPIRING = datetime.timedelta(days=30)


class NoStock(DomainError):
    """Nothing (or not enough) on hand: the dose can only be recorded as not available."""


def _quantity(value, *, field_name: str = "quantity") -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError("Enter a quantity as a number.", field=field_name) from None
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError("The quantity must be more than zero.", field=field_name)
    if quantity > Decimal("100000"):
        raise DomainError("That quantity is too large; check it.", field=field_name)
    return quantity


def _require_member(actor: User, facility: Facility, roles=None) -> str:
    role = membership_role(user=actor, facility_id=facility.pk)
    if role is None or (roles and role not in roles):
        raise DomainError("You cannot change stock in this facility.")
    return role


def _lock(item: StockItem) -> StockItem:
    return StockItem.objects.select_for_update().select_related("medication").get(pk=item.pk)


def _move(
    item: StockItem,
    *,
    kind: str,
    quantity: Decimal,
    actor: User,
    at: datetime.datetime,
    **fields,
) -> StockMovement:
    """Append one ledger line to a LOCKED item; the database refuses a negative balance too."""
    balance = item.on_hand + quantity
    if balance < 0:
        raise NoStock(
            f"Only {item.on_hand.normalize():f} {item.unit_of_count} of {item.medication} on hand."
        )
    item.on_hand = balance
    item.save(update_fields=["on_hand"])
    return StockMovement.objects.create(
        item=item, kind=kind, quantity=quantity, balance_after=balance, at=at, by=actor, **fields
    )


@dataclass
class ReceiveResult:
    movement: StockMovement
    warnings: list[str] = field(default_factory=list)


@transaction.atomic
def stock_receive(
    *,
    actor: User,
    facility: Facility,
    medication: Medication,
    quantity,
    resident: Resident | None = None,
    lot: str = "",
    expiry: datetime.date | None = None,
    rx_number: str = "",
    unit_of_count: str = "",
    now: datetime.datetime | None = None,
    announced: bool = False,
) -> ReceiveResult:
    """Receive a pharmacy delivery into the resident's supply (or house stock): a nurse or an
    administrator; a delivery the pharmacy `announced` (its dispense message says what, which
    lot, how many), a med tech too, who checks what arrived against it."""
    check_inputs(lot=lot, expiry=expiry, rx_number=rx_number, unit_of_count=unit_of_count)
    now = now or timezone.now()
    receivers = (Role.MED_TECH, Role.NURSE, Role.ADMIN) if announced else (Role.NURSE, Role.ADMIN)
    _require_member(actor, facility, roles=receivers)
    quantity = _quantity(quantity)
    if resident is not None and resident.facility_id != facility.pk:
        raise DomainError("Choose a resident of this facility.", field="resident")
    today = now.astimezone(facility.tz).date()
    warnings = []
    if expiry is not None and expiry < today:
        raise DomainError(
            f"This lot expired on {expiry:%Y-%m-%d}: do not receive it; return it to the pharmacy.",
            field="expiry",
        )
    if expiry is not None and expiry <= today + SOON_EXPIRING:
        warnings.append(f"This lot expires soon ({expiry:%Y-%m-%d}).")
    if medication.is_controlled and not lot.strip():
        raise DomainError("A controlled drug is received with its lot number.", field="lot")
    if resident is not None:
        orders = Prescription.objects.filter(resident=resident, medication=medication)
        if orders.exists() and not orders.exclude(status=OrderStatus.DISCONTINUED).exists():
            warnings.append(
                f"{resident.display_name}'s order for {medication.name} is discontinued: "
                "check before putting this on the cart."
            )
    item, _ = StockItem.objects.get_or_create(
        facility=facility,
        resident=resident,
        medication=medication,
        defaults={
            "reorder_days": facility.reorder_days,
            "unit_of_count": unit_of_count or _default_unit(medication),
        },
    )
    item = _lock(item)
    movement = _move(
        item,
        kind=MovementKind.RECEIVED,
        quantity=quantity,
        actor=actor,
        at=now,
        lot=lot.strip(),
        expiry=expiry,
        rx_number=rx_number.strip(),
    )
    if item.ordered_at is not None:
        item.ordered_at, item.ordered_by = None, None
        item.save(update_fields=["ordered_at", "ordered_by"])
    return ReceiveResult(movement, warnings)


def _default_unit(medication: Medication) -> str:
    return {
        "tablet": "tablet",
        "capsule": "capsule",
        "liquid": "mL",
        "patch": "patch",
        "injection": "mL",
        "drops": "drop",
        "powder": "g",
    }.get(medication.form, "dose")


def stock_consume(
    *,
    actor: User,
    resident: Resident,
    medication: Medication,
    quantity: Decimal,
    at: datetime.datetime,
    administration_id: int,
    witness: User | None = None,
) -> StockMovement | None:
    """Take a given dose out of stock. Called inside the administration's transaction.

    Returns None when the facility does not track a supply of this medication for the resident.
    Raises NoStock when there is not enough on hand.
    """
    item = stock_item_for(resident=resident, medication=medication)
    if item is None:
        return None
    item = _lock(item)
    if item.on_hand < quantity:
        raise NoStock(
            f"No stock on hand of {medication} ({item.on_hand.normalize():f} left): record the "
            "dose as “not available” and tell the nurse."
        )
    return _move(
        item,
        kind=MovementKind.ADMINISTERED,
        quantity=-quantity,
        actor=actor,
        at=at,
        witness=witness,
        administration_id=administration_id,
    )


def stock_reverse_for_administration(
    *, actor: User, administration_id: int, at: datetime.datetime, reason: str
) -> list[StockMovement]:
    """Put back what an administration entered in error took out of stock."""
    reversals = []
    for movement in StockMovement.objects.filter(
        administration_id=administration_id, kind=MovementKind.ADMINISTERED
    ):
        item = _lock(movement.item)
        reversals.append(
            _move(
                item,
                kind=MovementKind.AMENDMENT_REVERSAL,
                quantity=-movement.quantity,
                actor=actor,
                at=at,
                reason=reason,
                administration_id=administration_id,
            )
        )
    return reversals


def _witness(
    *, item: StockItem, actor: User, username: str, secret: str, client_address: str | None
) -> User:
    witness = staff_authenticate(
        actor=actor,
        facility=item.facility,
        username=username,
        secret=secret,
        field="witness",
        client_address=client_address,
    )
    return witness


@transaction.atomic
def stock_waste(
    *,
    actor: User,
    item: StockItem,
    quantity,
    reason: str,
    witness_username: str,
    witness_secret: str,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> StockMovement:
    """Waste part of a dose not given (a split tablet, a dropped dose), with a witness."""
    return _remove_with_witness(
        actor=actor,
        item=item,
        quantity=quantity,
        reason=reason,
        kind=MovementKind.WASTED,
        witness_username=witness_username,
        witness_secret=witness_secret,
        now=now,
        client_address=client_address,
    )


@transaction.atomic
def stock_destroy(
    *,
    actor: User,
    item: StockItem,
    quantity,
    reason: str,
    witness_username: str,
    witness_secret: str,
    returned: bool = False,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> StockMovement:
    """Destroy (or return to the pharmacy) discontinued, expired or discharged stock."""
    return _remove_with_witness(
        actor=actor,
        item=item,
        quantity=quantity,
        reason=reason,
        kind=MovementKind.RETURNED if returned else MovementKind.DESTROYED,
        witness_username=witness_username,
        witness_secret=witness_secret,
        now=now,
        client_address=client_address,
    )


def _remove_with_witness(
    *, actor, item, quantity, reason, kind, witness_username, witness_secret, now, client_address
) -> StockMovement:
    check_inputs(reason=reason, witness_username=witness_username)
    now = now or timezone.now()
    _require_member(actor, item.facility)
    quantity = _quantity(quantity)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason.", field="reason")
    witness = _witness(
        item=item,
        actor=actor,
        username=witness_username,
        secret=witness_secret,
        client_address=client_address,
    )
    locked = _lock(item)
    if quantity > locked.on_hand:
        raise DomainError(
            f"Only {locked.on_hand.normalize():f} {locked.unit_of_count} on hand.", field="quantity"
        )
    return _move(
        locked, kind=kind, quantity=-quantity, actor=actor, at=now, witness=witness, reason=reason
    )


@transaction.atomic
def stock_adjust(
    *,
    actor: User,
    item: StockItem,
    counted,
    reason: str,
    witness_username: str,
    witness_secret: str,
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> StockMovement:
    """A nurse sets the ledger to what was physically counted, after a discrepancy is looked
    into; the difference is a movement of its own, with a reason and a witness."""
    check_inputs(reason=reason, witness_username=witness_username)
    now = now or timezone.now()
    _require_member(actor, item.facility, roles=(Role.NURSE,))
    try:
        counted = Decimal(str(counted))
    except InvalidOperation:
        raise DomainError("Enter the counted quantity.", field="counted") from None
    if counted < 0:
        raise DomainError("A count cannot be negative.", field="counted")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason.", field="reason")
    witness = _witness(
        item=item,
        actor=actor,
        username=witness_username,
        secret=witness_secret,
        client_address=client_address,
    )
    locked = _lock(item)
    difference = counted - locked.on_hand
    if difference == 0:
        raise DomainError("The count matches the ledger; nothing to adjust.", field="counted")
    return _move(
        locked,
        kind=MovementKind.COUNT_ADJUSTMENT,
        quantity=difference,
        actor=actor,
        at=now,
        witness=witness,
        reason=reason,
    )


@transaction.atomic
def stock_mark_ordered(*, actor: User, item: StockItem) -> StockItem:
    _require_member(actor, item.facility, roles=(Role.NURSE, Role.ADMIN))
    locked = _lock(item)
    locked.ordered_at, locked.ordered_by = timezone.now(), actor
    locked.save(update_fields=["ordered_at", "ordered_by"])
    return locked


def controlled_items_for_unit(*, unit: Unit):
    return (
        StockItem.objects.filter(
            facility_id=unit.facility_id,
            resident__unit=unit,
            medication__controlled_schedule__in=["II", "III", "IV", "V"],
        )
        .select_related("medication", "resident")
        .order_by("resident__last_name", "medication__name", "pk")
    )


@transaction.atomic
def controlled_count_record(
    *,
    actor: User,
    unit: Unit,
    incoming_username: str,
    incoming_secret: str,
    counted: dict[int, object],
    now: datetime.datetime | None = None,
    client_address: str | None = None,
) -> ControlledCount:
    """The outgoing (`actor`) and incoming staff sign a count of every controlled item of the
    unit. A line that differs from the ledger makes a discrepancy (an alert, through the
    `controlled_count_discrepancy` signal); the ledger is not changed by the count itself."""
    check_inputs(incoming_username=incoming_username)
    now = now or timezone.now()
    facility = unit.facility
    _require_member(actor, facility)
    incoming = staff_authenticate(
        actor=actor,
        facility=facility,
        username=incoming_username,
        secret=incoming_secret,
        field="incoming",
        who="incoming staff member",
        client_address=client_address,
    )
    items = list(controlled_items_for_unit(unit=unit).select_for_update(of=("self",)))
    if not items:
        raise DomainError("This unit has no controlled drugs to count.")
    unknown = set(counted) - {item.pk for item in items}
    if unknown:
        raise DomainError("The count lists an item that is not in this unit.")
    lines = []
    for item in items:
        raw = counted.get(item.pk)
        if raw in (None, ""):
            raise DomainError(f"Count {item}: every item must be counted.", field=f"item_{item.pk}")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise DomainError(f"{item}: enter a number.", field=f"item_{item.pk}") from None
        check_decimal(value, field=f"item_{item.pk}", max_digits=10, decimal_places=2)
        if value < 0:
            raise DomainError(f"{item}: a count cannot be negative.", field=f"item_{item.pk}")
        lines.append(ControlledCountLine(item=item, expected=item.on_hand, counted=value))
    discrepancies = [line for line in lines if line.counted != line.expected]
    count = ControlledCount.objects.create(
        facility=facility,
        unit=unit,
        outgoing_by=actor,
        incoming_by=incoming,
        counted_at=now,
        has_discrepancy=bool(discrepancies),
    )
    for line in lines:
        line.count = count
    ControlledCountLine.objects.bulk_create(lines)
    if discrepancies:
        controlled_count_discrepancy.send(
            sender=ControlledCount, count=count, discrepancies=discrepancies
        )
    return count
