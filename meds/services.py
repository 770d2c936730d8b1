"""Every write about orders. One transaction each, with the acting user."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.schedule import DoseSchedule
from residents.models import AllergyStatus, Resident, ResidentStatus

from .models import (
    HoldParameter,
    Medication,
    OrderStatus,
    Prescription,
    PrescriptionStatusChange,
    Recurrence,
    Route,
)
from .signals import prescription_status_changed


class AllergyWarning(DomainError):
    """The order needs an explicit override with a reason before it can be saved."""


@dataclass(frozen=True)
class HoldRule:
    vital: str
    comparator: str
    threshold: Decimal


def allergy_conflicts(*, resident: Resident, medication: Medication) -> list[str]:
    """Recorded allergies whose substance matches the medication's name or generic name."""
    names = {medication.name.lower(), medication.generic_name.lower()} - {""}
    conflicts = []
    for allergy in resident.allergies.all():
        substance = allergy.substance.lower()
        if any(substance in name or name in substance for name in names):
            conflicts.append(allergy.substance)
    return conflicts


def _allergy_warning(resident: Resident, medication: Medication) -> str | None:
    if resident.allergy_status == AllergyStatus.NOT_RECORDED:
        return (
            f"{resident.display_name}'s allergies are not recorded. Confirm with the resident's "
            "record or physician and give a reason to go on."
        )
    conflicts = allergy_conflicts(resident=resident, medication=medication)
    if conflicts:
        return (
            f"ALLERGY: {resident.display_name} is allergic to {', '.join(conflicts)}, which "
            f"matches {medication.name}. Give a reason to override."
        )
    return None


def _role(user: User, facility_id: int) -> str | None:
    return membership_role(user=user, facility_id=facility_id)


def _require_writer(actor: User, facility_id: int) -> None:
    if _role(actor, facility_id) not in (Role.NURSE, Role.ADMIN):
        raise DomainError("Only nurses and administrators can enter or change orders.")


def _validate_schedule(
    *,
    is_prn: bool,
    times: list[datetime.time],
    recurrence: str,
    weekdays: list[int],
    every_n_days: int,
    month_days: list[int],
    start_date: datetime.date,
    stop_date: datetime.date | None,
    prn_min_hours: Decimal | None,
    prn_max_per_24h: int | None,
) -> None:
    if stop_date is not None and stop_date < start_date:
        raise DomainError("The stop date is before the start date.", field="stop_date")
    if is_prn:
        if not prn_min_hours or prn_min_hours <= 0:
            raise DomainError(
                "A PRN order needs the minimum hours between doses.", field="prn_min_hours"
            )
        if not prn_max_per_24h or prn_max_per_24h <= 0:
            raise DomainError(
                "A PRN order needs the maximum doses in 24 hours.", field="prn_max_per_24h"
            )
        if prn_min_hours * prn_max_per_24h > 24 * 4:
            raise DomainError("Check the PRN limits: they do not fit a day.", field="prn_min_hours")
        return
    if not times:
        raise DomainError("Enter at least one dose time, e.g. 08:00, 20:00.", field="times")
    if recurrence == Recurrence.WEEKDAYS and not weekdays:
        raise DomainError("Choose the weekdays.", field="weekdays")
    if recurrence == Recurrence.MONTH_DAYS and not month_days:
        raise DomainError("Enter the days of the month, e.g. 1, 15.", field="month_days")
    if recurrence == Recurrence.EVERY_N_DAYS and every_n_days < 2:
        raise DomainError("Every N days needs N of 2 or more.", field="every_n_days")
    try:
        DoseSchedule(
            times=tuple(times),
            start=start_date,
            end=stop_date,
            weekdays=frozenset(weekdays) if recurrence == Recurrence.WEEKDAYS else None,
            every_n_days=every_n_days if recurrence == Recurrence.EVERY_N_DAYS else 1,
            month_days=frozenset(month_days) if recurrence == Recurrence.MONTH_DAYS else None,
        )
    except ValueError as error:
        raise DomainError(str(error), field="times") from None


@transaction.atomic
def prescription_create(
    *,
    actor: User,
    resident: Resident,
    medication: Medication,
    dose_amount: Decimal,
    dose_unit: str,
    route: str,
    prescriber: str,
    start_date: datetime.date,
    stop_date: datetime.date | None = None,
    instructions: str = "",
    indication: str = "",
    is_prn: bool = False,
    times: list[datetime.time] | None = None,
    recurrence: str = Recurrence.DAILY,
    weekdays: list[int] | None = None,
    every_n_days: int = 1,
    month_days: list[int] | None = None,
    window_minutes: int | None = None,
    prn_min_hours: Decimal | None = None,
    prn_max_per_24h: int | None = None,
    hold_rules: list[HoldRule] | None = None,
    allergy_override_reason: str = "",
    replaces: Prescription | None = None,
) -> Prescription:
    """Enter an order; it waits in the verification queue until a nurse verifies it.

    Raises AllergyWarning when the medication matches a recorded allergy (or allergies are not
    recorded) and no `allergy_override_reason` is given; the reason is stored with the order.
    """
    resident = Resident.objects.select_for_update().select_related("facility").get(pk=resident.pk)
    facility = resident.facility
    _require_writer(actor, facility.pk)
    if resident.status == ResidentStatus.DISCHARGED:
        raise DomainError(f"{resident.display_name} is discharged; orders cannot be entered.")
    if dose_amount is None or dose_amount <= 0:
        raise DomainError("The dose must be more than zero.", field="dose_amount")
    if route not in Route.values:
        raise DomainError("Choose a route.", field="route")
    if not (prescriber or "").strip():
        raise DomainError("Enter the prescriber.", field="prescriber")
    times = sorted(set(times or []))
    weekdays = sorted(set(weekdays or []))
    month_days = sorted(set(month_days or []))
    if is_prn:
        times, weekdays, month_days, every_n_days, recurrence = [], [], [], 1, Recurrence.DAILY
    else:
        prn_min_hours = prn_max_per_24h = None
    _validate_schedule(
        is_prn=is_prn,
        times=times,
        recurrence=recurrence,
        weekdays=weekdays,
        every_n_days=every_n_days,
        month_days=month_days,
        start_date=start_date,
        stop_date=stop_date,
        prn_min_hours=prn_min_hours,
        prn_max_per_24h=prn_max_per_24h,
    )
    if is_prn and not (indication or "").strip():
        raise DomainError("A PRN order needs the indication it is given for.", field="indication")
    warning = _allergy_warning(resident, medication)
    allergy_override_reason = (allergy_override_reason or "").strip()
    if warning and not allergy_override_reason:
        raise AllergyWarning(warning, field="allergy_override_reason")
    if window_minutes is None:
        window_minutes = (
            facility.time_critical_window_minutes
            if medication.is_time_critical
            else facility.dose_window_minutes
        )
    if not 5 <= window_minutes <= 240:
        raise DomainError("The window must be 5 to 240 minutes.", field="window_minutes")

    order = Prescription.objects.create(
        facility=facility,
        resident=resident,
        medication=medication,
        dose_amount=dose_amount,
        dose_unit=dose_unit.strip() or "tablet",
        route=route,
        instructions=instructions.strip(),
        indication=indication.strip(),
        prescriber=prescriber.strip(),
        start_date=start_date,
        stop_date=stop_date,
        is_prn=is_prn,
        times=times,
        recurrence=recurrence,
        weekdays=weekdays if recurrence == Recurrence.WEEKDAYS else [],
        every_n_days=every_n_days if recurrence == Recurrence.EVERY_N_DAYS else 1,
        month_days=month_days if recurrence == Recurrence.MONTH_DAYS else [],
        window_minutes=window_minutes,
        prn_min_hours=prn_min_hours,
        prn_max_per_24h=prn_max_per_24h,
        entered_by=actor,
        allergy_override_reason=allergy_override_reason if warning else "",
        replaces=replaces,
    )
    HoldParameter.objects.bulk_create(
        HoldParameter(
            prescription=order,
            vital=rule.vital,
            comparator=rule.comparator,
            threshold=rule.threshold,
        )
        for rule in hold_rules or []
    )
    PrescriptionStatusChange.objects.create(
        prescription=order,
        from_status="",
        to_status=OrderStatus.PENDING,
        reason=f"Entered (replaces order #{replaces.pk})" if replaces else "Entered",
        changed_by=actor,
        changed_at=timezone.now(),
    )
    return order


def _lock(prescription: Prescription) -> Prescription:
    return (
        Prescription.objects.select_for_update()
        .select_related("facility", "resident", "medication")
        .get(pk=prescription.pk)
    )


def _move(
    order: Prescription, *, actor: User, to_status: str, reason: str, at: datetime.datetime
) -> None:
    from_status = order.status
    order.status = to_status
    order.save(update_fields=["status", "verified_by", "verified_at", "active_since"])
    PrescriptionStatusChange.objects.create(
        prescription=order,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        changed_by=actor,
        changed_at=at,
    )
    prescription_status_changed.send(
        sender=Prescription,
        prescription=order,
        from_status=from_status,
        to_status=to_status,
        at=at,
        actor=actor,
    )


@transaction.atomic
def prescription_verify(*, actor: User, prescription: Prescription) -> Prescription:
    """A nurse verifies a pending order; from now on it produces doses."""
    order = _lock(prescription)
    if _role(actor, order.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse can verify orders.")
    if order.status != OrderStatus.PENDING:
        raise DomainError(f"This order is already {order.get_status_display().lower()}.")
    if order.entered_by_id == actor.pk and not order.facility.nurses_may_verify_own_orders:
        raise DomainError("You entered this order; another nurse must verify it (facility policy).")
    now = timezone.now()
    order.verified_by, order.verified_at, order.active_since = actor, now, now
    _move(order, actor=actor, to_status=OrderStatus.ACTIVE, reason="Verified", at=now)
    return order


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason.", field="reason")
    return reason


@transaction.atomic
def prescription_hold(*, actor: User, prescription: Prescription, reason: str) -> Prescription:
    """Put an active order on hold: its future undocumented doses are cancelled with it."""
    reason = _reason(reason)
    order = _lock(prescription)
    _require_writer(actor, order.facility_id)
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(f"Only an active order can be held; this one is {order.status}.")
    _move(order, actor=actor, to_status=OrderStatus.ON_HOLD, reason=reason, at=timezone.now())
    return order


@transaction.atomic
def prescription_resume(*, actor: User, prescription: Prescription, reason: str) -> Prescription:
    reason = _reason(reason)
    order = _lock(prescription)
    _require_writer(actor, order.facility_id)
    if order.status != OrderStatus.ON_HOLD:
        raise DomainError("Only an order on hold can be resumed.")
    now = timezone.now()
    order.active_since = now
    _move(order, actor=actor, to_status=OrderStatus.ACTIVE, reason=reason, at=now)
    return order


@transaction.atomic
def prescription_discontinue(
    *, actor: User, prescription: Prescription, reason: str
) -> Prescription:
    """Stop an order for good (a pending one too): its future undocumented doses are cancelled."""
    reason = _reason(reason)
    order = _lock(prescription)
    _require_writer(actor, order.facility_id)
    if order.status == OrderStatus.DISCONTINUED:
        raise DomainError("This order is already discontinued.")
    _move(order, actor=actor, to_status=OrderStatus.DISCONTINUED, reason=reason, at=timezone.now())
    return order


@transaction.atomic
def prescription_change(
    *, actor: User, prescription: Prescription, reason: str, **new_order
) -> Prescription:
    """Change an order: discontinue it with a reason and enter the new, linked order in one step.

    The new order waits for verification like any other.
    """
    old = prescription_discontinue(
        actor=actor, prescription=prescription, reason=f"Changed: {_reason(reason)}"
    )
    return prescription_create(actor=actor, resident=old.resident, replaces=old, **new_order)
