"""Every write about orders. One transaction each, with the acting user."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import Replace
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import membership_role
from core.errors import DomainError
from core.schedule import DoseSchedule
from core.validators import check_inputs
from residents.models import AllergyStatus, Resident, ResidentStatus

from .barcodes import NDC_SHAPES, ndc_11
from .models import (
    ControlledSchedule,
    DatedHold,
    DatedHoldState,
    Form,
    HighAlert,
    HoldParameter,
    Medication,
    MedicationPackage,
    OrderSource,
    OrderStatus,
    Prescription,
    PrescriptionStatusChange,
    Recurrence,
    Route,
)
from .signals import dated_hold_changed, prescription_status_changed


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
    min_dose_spacing_minutes: int | None = None,
    hold_rules: list[HoldRule] | None = None,
    allergy_override_reason: str = "",
    replaces: Prescription | None = None,
    source: str = OrderSource.TYPED,
    source_message_id: str = "",
) -> Prescription:
    """Enter an order; it waits in the verification queue until a nurse verifies it.

    `source` / `source_message_id` record an order a pharmacy sent (its message's control id).

    Raises AllergyWarning when the medication matches a recorded allergy (or allergies are not
    recorded) and no `allergy_override_reason` is given; the reason is stored with the order.
    """
    check_inputs(
        dose_amount=dose_amount,
        dose_unit=dose_unit,
        prescriber=prescriber,
        start_date=start_date,
        stop_date=stop_date,
        instructions=instructions,
        indication=indication,
        prn_min_hours=prn_min_hours,
        allergy_override_reason=allergy_override_reason,
    )
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
        min_dose_spacing_minutes = None  # a PRN's own limits (minimum hours) space its doses
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
    if min_dose_spacing_minutes is not None and not 15 <= min_dose_spacing_minutes <= 1440:
        raise DomainError(
            "The minimum time between doses must be 15 minutes to 24 hours (1440 minutes).",
            field="min_dose_spacing_minutes",
        )

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
        min_dose_spacing_minutes=min_dose_spacing_minutes,
        entered_by=actor,
        allergy_override_reason=allergy_override_reason if warning else "",
        replaces=replaces,
        source=source,
        source_message_id=source_message_id,
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
        reason=(
            f"Entered to replace the {replaces.medication} order that started "
            f"{replaces.start_date:%Y-%m-%d}"
            if replaces
            else "Entered"
        ),
        changed_by=actor,
        changed_at=timezone.now(),
    )
    return order


def _lock(prescription: Prescription) -> Prescription:
    """The order, locked for a change of its status: its resident's row first, then the order's.

    Every change that stops doses (a hold, a stop, an absence) locks the resident first; the dose
    generator share-locks the residents it writes doses for before it writes them, so a change in
    progress is waited for and never overtaken by doses made from what was read before it.
    """
    list(Resident.objects.select_for_update().filter(pk=prescription.resident_id).values("pk"))
    return (
        Prescription.objects.select_for_update(of=("self",))
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
    check_inputs(reason=reason)
    reason = _reason(reason)
    order = _lock(prescription)
    _require_writer(actor, order.facility_id)
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(f"Only an active order can be held; this one is {order.status}.")
    _move(order, actor=actor, to_status=OrderStatus.ON_HOLD, reason=reason, at=timezone.now())
    return order


@transaction.atomic
def prescription_resume(*, actor: User, prescription: Prescription, reason: str) -> Prescription:
    check_inputs(reason=reason)
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
    check_inputs(reason=reason)
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
    check_inputs(reason=reason)
    old = prescription_discontinue(
        actor=actor, prescription=prescription, reason=f"Changed: {_reason(reason)}"
    )
    return prescription_create(actor=actor, resident=old.resident, replaces=old, **new_order)


# --- Dated holds -------------------------------------------------------------------------------

# Who may place a dated hold (it stops nothing until a nurse verifies it).
HOLD_PLACERS = (Role.MED_TECH, Role.NURSE, Role.ADMIN)
# A dated hold is a short pause (a procedure, an appointment); longer is an order on hold.
DATED_HOLD_LONGEST = datetime.timedelta(days=14)


def _lock_hold(hold: DatedHold) -> DatedHold:
    """The hold, locked, after its order (and the order's resident: the same order of locks as
    every change that stops doses, see _lock)."""
    _lock(hold.prescription)
    return (
        DatedHold.objects.select_for_update(of=("self",))
        .select_related("prescription__facility", "prescription__medication", "placed_by")
        .get(pk=hold.pk)
    )


@transaction.atomic
def prescription_hold_dated(
    *,
    actor: User,
    prescription: Prescription,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    reason: str,
    now: datetime.datetime | None = None,
) -> DatedHold:
    """Place a dated hold on an active scheduled order (e.g. "hold metformin the morning of the
    procedure"). It waits for a nurse's verification (dated_hold_verify) before it stops any
    dose; verified, the order's doses due from `starts_at` up to `ends_at` are not given (the
    MAR reads HOLD), and the order carries on by itself afterwards. Med techs, nurses and
    administrators place them; the order's status is not touched."""
    check_inputs(reason=reason)
    now = now or timezone.now()
    reason = (reason or "").strip()
    order = _lock(prescription)
    if _role(actor, order.facility_id) not in HOLD_PLACERS:
        raise DomainError("Med techs, nurses and administrators place holds.")
    if not reason:
        raise DomainError("Give the reason for the hold.", field="reason")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            raise DomainError("Enter the date and time.", field=name)
    if ends_at <= starts_at:
        raise DomainError("The hold must end after it starts.", field="ends_at")
    if ends_at <= now:
        raise DomainError("That time is already past.", field="ends_at")
    if ends_at - starts_at > DATED_HOLD_LONGEST:
        raise DomainError(
            f"A dated hold lasts at most {DATED_HOLD_LONGEST.days} days; for longer, a nurse "
            "puts the order on hold.",
            field="ends_at",
        )
    if order.is_prn:
        raise DomainError(
            f"{order.medication} is as needed (PRN): it has no scheduled doses to hold.",
            field="prescription",
        )
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(
            f"Only an active order can be held; {order.medication} is "
            f"{order.get_status_display().lower()}.",
            field="prescription",
        )
    return DatedHold.objects.create(
        prescription=order,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        placed_by=actor,
        placed_at=now,
    )


@transaction.atomic
def dated_hold_verify(
    *, actor: User, hold: DatedHold, now: datetime.datetime | None = None
) -> DatedHold:
    """A nurse verifies a dated hold: the order's open doses in its time are cancelled ("hold")
    in this transaction, and the dose engine makes none there afterwards."""
    now = now or timezone.now()
    hold = _lock_hold(hold)
    order = hold.prescription
    if _role(actor, order.facility_id) != Role.NURSE:
        raise DomainError("Only a nurse can verify a hold.")
    if hold.state != DatedHoldState.PENDING:
        raise DomainError(f"This hold is already {hold.get_state_display().lower()}.")
    if hold.placed_by_id == actor.pk and not order.facility.nurses_may_verify_own_orders:
        raise DomainError("You placed this hold; another nurse must verify it (facility policy).")
    if hold.ends_at <= now:
        raise DomainError("This hold's time has passed; cancel it instead.")
    if order.status != OrderStatus.ACTIVE:
        raise DomainError(
            f"The order is {order.get_status_display().lower()} now; cancel this hold instead."
        )
    hold.state, hold.verified_by, hold.verified_at = DatedHoldState.VERIFIED, actor, now
    hold.save(update_fields=["state", "verified_by", "verified_at"])
    dated_hold_changed.send(sender=DatedHold, hold=hold, to_state=hold.state, at=now)
    return hold


@transaction.atomic
def dated_hold_cancel(
    *, actor: User, hold: DatedHold, reason: str, now: datetime.datetime | None = None
) -> DatedHold:
    """Cancel a dated hold (nurses and administrators; the person who placed it too while it
    waits for verification). A verified one's doses still ahead come back."""
    check_inputs(reason=reason)
    now = now or timezone.now()
    reason = _reason(reason)
    hold = _lock_hold(hold)
    role = _role(actor, hold.prescription.facility_id)
    placer = hold.placed_by_id == actor.pk and hold.state == DatedHoldState.PENDING
    if role not in (Role.NURSE, Role.ADMIN) and not (placer and role in HOLD_PLACERS):
        raise DomainError("Only nurses and administrators can cancel a hold.")
    if hold.state == DatedHoldState.CANCELLED:
        raise DomainError("This hold is already cancelled.")
    was = hold.state
    hold.state, hold.cancelled_by, hold.cancelled_at = DatedHoldState.CANCELLED, actor, now
    hold.cancel_reason = reason
    hold.save(update_fields=["state", "cancelled_by", "cancelled_at", "cancel_reason"])
    if was == DatedHoldState.VERIFIED:
        dated_hold_changed.send(sender=DatedHold, hold=hold, to_state=hold.state, at=now)
    return hold


# --- The medication catalog ------------------------------------------------------------------

# The fields of a catalog entry a caller may set.
MEDICATION_FIELDS = (
    "name",
    "generic_name",
    "strength",
    "form",
    "default_route",
    "controlled_schedule",
    "ndc",
    "barcode",
    "is_psychotropic",
    "is_time_critical",
    "high_alert",
)
# What identifies the product. Orders, and through them every MAR record, show these, so they
# never change while an order refers to the entry.
MEDICATION_IDENTITY = ("name", "strength", "form")
NDC_HELP = (
    "An NDC is 10 digits in 4-4-2, 5-3-2 or 5-4-1 form, or 11 digits in 5-4-2 form, "
    "e.g. 0093-1048-01."
)
# Serialises catalog writes: NDC and barcode have no unique constraint (an NDC has several
# spellings), so the duplicate checks below must not race each other.
_CATALOG_LOCK = 7_101_001


def ndc_normalise(text: str) -> str:
    """An NDC as typed -> its dashed form (kept as printed, so a typed NDC still scans).

    Spaces or dashes separate the segments; 11 bare digits are read as 5-4-2. Ten bare digits
    could be any of three products, so they are refused. Raises DomainError(field="ndc")."""
    text = text.strip()
    if not text:
        return ""
    segments = [s for s in re.split(r"[\s-]+", text) if s]
    if not all(s.isascii() and s.isdigit() for s in segments):
        raise DomainError(f"“{text}” is not an NDC. {NDC_HELP}", field="ndc")
    if len(segments) == 1 and len(segments[0]) == 11:
        digits = segments[0]
        segments = [digits[:5], digits[5:9], digits[9:]]
    elif len(segments) == 1 and len(segments[0]) == 10:
        raise DomainError(
            "Type the NDC with its dashes as printed on the package (e.g. 0093-1048-01): "
            "ten digits without dashes can be read three ways.",
            field="ndc",
        )
    if tuple(len(s) for s in segments) not in NDC_SHAPES:
        raise DomainError(f"“{text}” is not an NDC. {NDC_HELP}", field="ndc")
    return "-".join(segments)


def _ndc_spellings(ndc: str) -> set[str]:
    """The digit strings (dashes removed) that name the same product as `ndc`."""
    eleven = ndc_11(ndc)
    labeler, product, package = eleven[:5], eleven[5:9], eleven[9:]
    spellings = {eleven}
    if labeler.startswith("0"):
        spellings.add(labeler[1:] + product + package)
    if product.startswith("0"):
        spellings.add(labeler + product[1:] + package)
    if package.startswith("0"):
        spellings.add(labeler + product + package[1:])
    return spellings


def _squash(text: str) -> str:
    return " ".join(text.split())


def _clean_medication(fields: dict) -> dict:
    unknown = set(fields) - set(MEDICATION_FIELDS)
    if unknown:
        raise TypeError(f"Unknown medication fields: {sorted(unknown)}")
    clean = dict(fields)
    for name in ("name", "generic_name", "strength", "barcode"):
        clean[name] = _squash(clean.get(name) or "")
    if not clean["name"]:
        raise DomainError("Enter the medication's name.", field="name")
    if not clean["strength"]:
        raise DomainError("Enter the strength, e.g. 10 mg or 500 mg/5 mL.", field="strength")
    if clean.get("form") not in Form.values:
        raise DomainError("Choose the form (tablet, liquid, patch, …).", field="form")
    clean["default_route"] = clean.get("default_route") or Route.ORAL
    if clean["default_route"] not in Route.values:
        raise DomainError("Choose the usual route.", field="default_route")
    clean["controlled_schedule"] = clean.get("controlled_schedule") or ""
    if clean["controlled_schedule"] not in ControlledSchedule.values:
        raise DomainError("Choose a controlled-substance schedule.", field="controlled_schedule")
    if " " in clean["barcode"]:
        raise DomainError("A barcode has no spaces; scan it again.", field="barcode")
    clean["ndc"] = ndc_normalise(clean.get("ndc") or "")
    clean["is_psychotropic"] = bool(clean.get("is_psychotropic"))
    clean["is_time_critical"] = bool(clean.get("is_time_critical"))
    clean["high_alert"] = clean.get("high_alert") or ""
    if clean["high_alert"] not in HighAlert.values:
        raise DomainError("Choose a high-alert class, or none.", field="high_alert")
    return clean


def _refuse_duplicates(
    clean: dict, *, exclude_pk: int | None = None, from_directory: bool = False
) -> None:
    """Refuse a second entry of the same product, NDC or barcode. The same name, strength and
    form is a duplicate among the entries made by hand; the FDA directory lists one product
    from many labelers, so its entries are told apart by their product NDC instead."""
    others = Medication.objects.exclude(pk=exclude_pk)
    same = None
    if not from_directory:
        same = (
            others.filter(product_ndc__isnull=True)
            .annotate(bare_strength=Replace("strength", Value(" "), Value("")))
            .filter(
                name__iexact=clean["name"],
                bare_strength__iexact=clean["strength"].replace(" ", ""),
                form=clean["form"],
            )
            .first()
        )
    if same is not None:
        raise DomainError(f"{same} is already in the catalog.", field="name")
    if clean["ndc"]:
        same = (
            others.annotate(ndc_digits=Replace("ndc", Value("-"), Value("")))
            .filter(ndc_digits__in=_ndc_spellings(clean["ndc"]))
            .first()
        )
        if same is None:
            package = (
                MedicationPackage.objects.filter(ndc11=ndc_11(clean["ndc"]))
                .exclude(medication_id=exclude_pk)
                .select_related("medication")
                .first()
            )
            same = package.medication if package is not None else None
        if same is not None:
            raise DomainError(
                f"NDC {clean['ndc']} is already the NDC of {same} ({same.ndc}).", field="ndc"
            )
    if clean["barcode"]:
        same = others.filter(barcode=clean["barcode"]).first()
        if same is not None:
            raise DomainError(f"This barcode is already the barcode of {same}.", field="barcode")


def _lock_catalog() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CATALOG_LOCK])


def _save_medication(medication: Medication, clean: dict) -> Medication:
    for name, value in clean.items():
        setattr(medication, name, value)
    try:
        with transaction.atomic():
            medication.save()
    except IntegrityError:
        raise DomainError(f"{medication} is already in the catalog.", field="name") from None
    return medication


@transaction.atomic
def medication_create(*, actor: User, **fields) -> Medication:
    """Add an entry to the catalog every facility shares. The caller checks the actor's role.

    Refused (DomainError beside the field) without a name, strength or form, with an NDC that
    is not one, or when the same product (name, strength, form), NDC or barcode is already in
    the catalog. The NDC is stored dashed as printed; NDCs compare as their 11 digits."""
    check_inputs(**fields)
    clean = _clean_medication(fields)
    _lock_catalog()
    _refuse_duplicates(clean)
    return _save_medication(Medication(), clean)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@transaction.atomic
def medication_update(*, actor: User, medication: Medication, **fields) -> Medication:
    """Correct a catalog entry. The caller checks the actor's role.

    While any order refers to the entry (discontinued ones too: their MAR records show its
    name and strength), its identity (name, strength, form) cannot change, and the refusal
    counts the orders (pending and on hold ones count as active, as they can give doses again);
    the generic name, usual route, controlled schedule, flags, NDC and barcode can. The row
    lock also waits for an order being entered against it at the same moment (the order's
    foreign key takes a key-share lock), so the count of orders is current."""
    check_inputs(**fields)
    clean = _clean_medication(fields)
    _lock_catalog()
    locked = Medication.objects.select_for_update().get(pk=medication.pk)
    renamed = [name for name in MEDICATION_IDENTITY if getattr(locked, name) != clean[name]]
    if renamed:
        counts = Prescription.objects.filter(medication=locked).aggregate(
            current=Count("pk", filter=~Q(status=OrderStatus.DISCONTINUED)),
            stopped=Count("pk", filter=Q(status=OrderStatus.DISCONTINUED)),
        )
        if counts["current"] or counts["stopped"]:
            users = [
                _plural(counts[key], f"{word} order")
                for key, word in (("current", "active"), ("stopped", "discontinued"))
                if counts[key]
            ]
            raise DomainError(
                f"{locked} is used by {' and '.join(users)}, so its name, strength and form "
                "cannot change: those orders and their records point at this entry. Add the "
                "new product as a new medication instead. The flags, NDC and barcode can still "
                "be corrected here.",
                field=renamed[0],
            )
    _refuse_duplicates(clean, exclude_pk=locked.pk, from_directory=locked.product_ndc is not None)
    return _save_medication(locked, clean)
